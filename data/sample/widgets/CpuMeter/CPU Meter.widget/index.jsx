import { css } from "uebersicht";

// Sample one `top` frame: its header line carries user, sys and idle percentages.
export const command = `top -l 1 -n 0 | grep "CPU usage"`;

export const refreshFrequency = 2000;

const parse = (output) => {
  const numbers = (output || "").match(/[\d.]+(?=%)/g) || [];
  const [user = 0, sys = 0, idle = 100] = numbers.map(Number);
  return { user, sys, idle };
};

const box = css`
  position: absolute;
  top: 24px;
  left: 24px;
  width: 220px;
  padding: 12px 14px;
  border-radius: 10px;
  background: rgba(20, 22, 28, 0.72);
  color: #e8eaf0;
  font: 12px -apple-system, "Helvetica Neue", sans-serif;
`;

const track = css`
  height: 8px;
  margin: 6px 0 10px;
  border-radius: 4px;
  background: rgba(255, 255, 255, 0.12);
  overflow: hidden;
`;

const fill = (percent, colour) => css`
  width: ${Math.min(100, percent)}%;
  height: 100%;
  background: ${colour};
  transition: width 0.6s ease;
`;

const Row = ({ label, percent, colour }) => (
  <div>
    <span>{label}</span>
    <span style={{ float: "right" }}>{percent.toFixed(1)}%</span>
    <div className={track}>
      <div className={fill(percent, colour)} />
    </div>
  </div>
);

export const render = ({ output, error }) => {
  if (error) return <div className={box}>CPU meter: {String(error)}</div>;
  const { user, sys, idle } = parse(output);
  return (
    <div className={box}>
      <Row label="User" percent={user} colour="#5ac8fa" />
      <Row label="System" percent={sys} colour="#ff9f0a" />
      <Row label="Idle" percent={idle} colour="#30d158" />
    </div>
  );
};
