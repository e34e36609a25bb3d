import { css } from "uebersicht";
import { humanSize } from "./format.jsx";

const row = css`
  margin-bottom: 10px;
`;

const bar = css`
  height: 6px;
  margin-top: 3px;
  border-radius: 3px;
  background: rgba(255, 255, 255, 0.15);
`;

const used = (percent) => css`
  width: ${percent}%;
  height: 100%;
  border-radius: 3px;
  background: ${percent > 90 ? "#ff453a" : percent > 75 ? "#ff9f0a" : "#64d2ff"};
`;

const UsageBar = ({ volume }) => (
  <div className={row}>
    <span>{volume.mount}</span>
    <span style={{ float: "right" }}>
      {humanSize(volume.used)} of {humanSize(volume.size)}
    </span>
    <div className={bar}>
      <div className={used(volume.percent)} />
    </div>
  </div>
);

export default UsageBar;
