"""How Apple's adapter toolkit turns one training line into the text its tokenizer encodes.

The toolkit (examples/ and assets/ of Apple's download) tokenizes each JSONL line with the
AFM "chat template v6" of Apple's `tamm` package and the SentencePiece model it ships as
`assets/tokenizer.model`. We write that rendering here ourselves (tamm needs torch, about
1 GB, so it is never a runtime dependency; tests compare with it where it is installed):

- the system turn: `<turn_start> system<n>` + its content, then, when the line offers tools,
  `<n>system tools: ` + each tool as compact JSON (`ensure_ascii=False`, the default `, ` and
  `: ` separators), joined by `<n>`; then `<turn_end>`;
- every later turn: `<turn_start> ` + role + `<n>` + content + `<turn_end>`;
- a line without a system turn gets the toolkit's default system message;
- an assistant turn's `tool_calls` follow its content as `<executable_start> ```function`, a
  newline, the calls as JSON (`name`, parsed `arguments`) and ```` ```<executable_end>````; a
  tool result's content is its JSON; a user turn's `response_format` adds its name,
  description and schema after the content;
- the tokenizer's text processor then writes every newline as the `<n>` token;
- the token ids are SentencePiece's encoding of that text with its first id (the dummy-prefix
  piece before `<turn_start>`) dropped and the end-of-sequence id put in front: the count is
  the number of ids encoded.

`TEMPLATE_ID` names this rendering in the token cache key: change it when the rendering
changes so no cached count survives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graftwork.core.dataset.examples import Example

TEMPLATE_ID = "afm-chat-v6"
DEFAULT_SYSTEM_MESSAGE = "A conversation between a user and a helpful assistant."
TURN_START = "<turn_start>"
TURN_END = "<turn_end>"
NEWLINE = "<n>"
SPECIAL_TOKENS = (TURN_START, TURN_END, NEWLINE)


def _tool_json(tool: dict[str, Any]) -> str:
    return json.dumps(tool, ensure_ascii=False)


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _content(msg: dict[str, Any]) -> str:
    """A message's text as the template sees it, its extras (tool calls, response format)
    written into it the way the toolkit's preprocessor does before rendering."""
    content = msg.get("content")
    if msg.get("role") in ("tool", "function"):
        if isinstance(content, dict):
            content = json.dumps(content, ensure_ascii=False)
        elif isinstance(content, list):
            content = "new tools: " + "\n".join(_tool_json(t) for t in content)
    text = str(content or "")
    calls = msg.get("tool_calls")
    if calls:
        listed = [
            {"name": c["function"]["name"], "arguments": _arguments(c["function"].get("arguments"))}
            for c in calls
        ]
        text += f"<executable_start> ```function\n{json.dumps(listed, ensure_ascii=False)}```<executable_end>"
    fmt = msg.get("response_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
        js = fmt["json_schema"]
        text += (
            f"\n\nresponse format in json.\nname: {js.get('name')}\n"
            f"description: {js.get('description')}\n"
            f"schema: {json.dumps(js.get('schema'), ensure_ascii=False)}"
        )
    return text


def _role(msg: dict[str, Any]) -> str:
    return "tool" if msg.get("role") == "function" else str(msg.get("role"))


def render_messages(messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]) -> str:
    """The chat template's text for one line (newlines still as newlines)."""
    msgs = list(messages)
    if not msgs or msgs[0].get("role") != "system":
        msgs = [{"role": "system", "content": DEFAULT_SYSTEM_MESSAGE}, *msgs]
    first = msgs[0]
    pieces = [f"{TURN_START} {_role(first)}{NEWLINE}{_content(first)}"]
    if tools:
        pieces.append(f"{NEWLINE}system tools: " + NEWLINE.join(_tool_json(t) for t in tools))
    pieces.append(TURN_END)
    for msg in msgs[1:]:
        pieces.append(f"{TURN_START} {_role(msg)}{NEWLINE}{_content(msg)}{TURN_END}")
    return "".join(pieces)


def render(example: Example) -> str:
    """The rendering of ``example`` as build writes it (tools from the system message)."""
    messages = example.apple_messages()
    tools = messages[0].get("tools") if messages and messages[0].get("role") == "system" else None
    plain = [{k: v for k, v in m.items() if k != "tools"} for m in messages]
    return render_messages(plain, tools or [])


def tokenizer_text(text: str) -> str:
    """What the tokenizer encodes: the text processor writes newlines as `<n>`."""
    return text.replace("\n", NEWLINE)


def count_from_ids(ids: Sequence[int]) -> int:
    """Length of the toolkit's input ids for an encoding: first id dropped, EOS put in front."""
    return len(ids[1:]) + 1
