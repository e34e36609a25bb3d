import { React, css } from "uebersicht";

// No shell command: the timer lives entirely in React state.
export const command = undefined;
export const refreshFrequency = false;

const FOCUS_MINUTES = 25;
const BREAK_MINUTES = 5;

const panel = css`
  position: absolute;
  top: 40%;
  left: 50%;
  transform: translate(-50%, -50%);
  padding: 18px 26px;
  border-radius: 14px;
  background: rgba(0, 0, 0, 0.55);
  color: #fafafa;
  text-align: center;
  font-family: "SF Mono", Menlo, monospace;
`;

const digits = css`
  font-size: 44px;
  letter-spacing: 2px;
`;

const button = css`
  margin: 10px 4px 0;
  padding: 4px 12px;
  border: 1px solid rgba(255, 255, 255, 0.4);
  border-radius: 6px;
  background: transparent;
  color: inherit;
  cursor: pointer;
`;

const pad = (n) => String(n).padStart(2, "0");

const Timer = () => {
  const [mode, setMode] = React.useState("focus");
  const [left, setLeft] = React.useState(FOCUS_MINUTES * 60);
  const [running, setRunning] = React.useState(false);

  React.useEffect(() => {
    if (!running) return undefined;
    const tick = setInterval(() => setLeft((s) => Math.max(0, s - 1)), 1000);
    return () => clearInterval(tick);
  }, [running]);

  React.useEffect(() => {
    if (left > 0) return;
    const next = mode === "focus" ? "break" : "focus";
    setMode(next);
    setLeft((next === "focus" ? FOCUS_MINUTES : BREAK_MINUTES) * 60);
  }, [left, mode]);

  const reset = () => {
    setRunning(false);
    setMode("focus");
    setLeft(FOCUS_MINUTES * 60);
  };

  return (
    <div className={panel}>
      <div>{mode === "focus" ? "Focus" : "Break"}</div>
      <div className={digits}>
        {pad(Math.floor(left / 60))}:{pad(left % 60)}
      </div>
      <button className={button} onClick={() => setRunning(!running)}>
        {running ? "Pause" : "Start"}
      </button>
      <button className={button} onClick={reset}>
        Reset
      </button>
    </div>
  );
};

export const render = () => <Timer />;
