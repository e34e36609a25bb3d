import { styled } from "uebersicht";

// `pmset -g batt` prints e.g. "... 87%; discharging; 4:12 remaining".
export const command = "pmset -g batt | grep -Eo '[0-9]+%; [a-zA-Z ]+'";

export const refreshFrequency = 60 * 1000;

const RADIUS = 34;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;

const Wrapper = styled("div")`
  position: absolute;
  bottom: 30px;
  right: 30px;
  display: flex;
  align-items: center;
  gap: 12px;
  color: white;
  font-family: Menlo, monospace;
  font-size: 13px;
`;

const Ring = styled("circle")`
  fill: none;
  stroke-width: 8;
  stroke-linecap: round;
  transform: rotate(-90deg);
  transform-origin: 50% 50%;
`;

const State = styled("div")`
  text-transform: capitalize;
  opacity: ${(props) => (props.charging ? 1 : 0.7)};
`;

const colourFor = (level) => (level < 20 ? "#ff453a" : level < 50 ? "#ffd60a" : "#32d74b");

export const render = ({ output }) => {
  const [percentText = "0%", state = "unknown"] = (output || "").trim().split("; ");
  const level = parseInt(percentText, 10) || 0;
  const charging = state.startsWith("charging");
  return (
    <Wrapper>
      <svg width="80" height="80" viewBox="0 0 80 80">
        <Ring cx="40" cy="40" r={RADIUS} stroke="rgba(255,255,255,0.15)" />
        <Ring
          cx="40"
          cy="40"
          r={RADIUS}
          stroke={colourFor(level)}
          strokeDasharray={CIRCUMFERENCE}
          strokeDashoffset={CIRCUMFERENCE * (1 - level / 100)}
        />
        <text x="40" y="45" textAnchor="middle" fill="white" fontSize="16">
          {level}%
        </text>
      </svg>
      <State charging={charging}>{charging ? "⚡ " : ""}{state}</State>
    </Wrapper>
  );
};
