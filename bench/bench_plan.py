"""Plan benchmark: expand a spec into 100,000 planned prompts (target < 5 s).

Five categories of 20,000 prompts each, two to three templates each, variables from a
2,000-line file, weighted lists and tags. Prints load, expand and total times.

Run: .venv/bin/python bench/bench_plan.py [--n 100000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from graftwork.core.spec.expand import expand
from graftwork.core.spec.load import load_spec

SPEC = """\
dataset: {{name: bench}}
seed: 1
variables:
  place: {{file: places.txt}}
  days: [1, 2, 3, 4, 5, 6, 7, 10, 14]
  season: {{weighted: {{spring: 3, summer: 3, autumn: 2, winter: 1}}}}
  who: [a solo traveller, a couple, a family, a group of friends, a retiree]
  topic: [food, museums, hiking, music, markets, beaches, history, nightlife]
tags:
  difficulty: {{weighted: {{easy: 3, medium: 2, hard: 1}}}}
categories:
  itinerary:
    count: {per}
    templates:
      - "Plan {{{{ days }}}} days in {{{{ place }}}} in {{{{ season }}}} for {{{{ who }}}}, focus on {{{{ topic }}}}."
      - {{text: "{{{{ days }}}} days, {{{{ place }}}}, {{{{ topic }}}}: what must {{{{ who }}}} see?", weight: 0.5}}
  packing:
    count: {per}
    templates: ["What should {{{{ who }}}} pack for {{{{ days }}}} days in {{{{ place }}}} in {{{{ season }}}}?"]
  transport:
    count: {per}
    variables: {{arrival: [the airport, the station, the port]}}
    templates:
      - "From {{{{ arrival }}}} to central {{{{ place }}}} for {{{{ who }}}} in {{{{ season }}}}?"
      - "Is a car worth it for {{{{ days }}}} days around {{{{ place }}}} ({{{{ topic }}}})?"
  etiquette:
    count: {per}
    templates:
      - "Customs {{{{ who }}}} should know in {{{{ place }}}} about {{{{ topic }}}} in {{{{ season }}}}?"
      - "Tipping in {{{{ place }}}} for {{{{ who }}}} over {{{{ days }}}} days?"
      - "Useful phrases in {{{{ place }}}} about {{{{ topic }}}} ({{{{ difficulty }}}})?"
  safety:
    count: {per}
    templates: ["Risks for {{{{ who }}}} in {{{{ place }}}} in {{{{ season }}}} around {{{{ topic }}}}?"]
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "places.txt").write_text(
            "\n".join(f"Place {i:04d}" for i in range(2000)) + "\n", encoding="utf-8"
        )
        spec_path = root / "spec.yaml"
        spec_path.write_text(SPEC.format(per=args.n // 5), encoding="utf-8")
        c0, t0 = time.process_time(), time.perf_counter()
        loaded = load_spec(spec_path)
        t1 = time.perf_counter()
        result = expand(loaded)
        t2, c2 = time.perf_counter(), time.process_time()
    n = len(result.prompts)
    assert n == args.n and len({p.prompt for p in result.prompts}) == n, (n, result.warnings)
    total = t2 - t0
    load = os.getloadavg()[0]
    print(
        f"load {t1 - t0:.3f} s, expand {t2 - t1:.3f} s: {n:,} prompts in {total:.2f} s "
        f"({n / total:,.0f}/s; CPU {c2 - c0:.2f} s, machine load average {load:.1f}); "
        f"target < 5 s: {'ok' if total < 5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
