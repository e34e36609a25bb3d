import { css } from "uebersicht";
import { parseDf } from "./lib/format.jsx";
import UsageBar from "./lib/UsageBar.jsx";

// 1K blocks, local volumes only; the helpers in lib/ parse and draw.
export const command = "df -kl | grep '^/dev/'";

export const refreshFrequency = 5 * 60 * 1000;

export const className = css`
  position: absolute;
  top: 20px;
  right: 20px;
  width: 260px;
  color: #f2f2f7;
  font: 11px "Helvetica Neue", sans-serif;
`;

const title = css`
  margin-bottom: 8px;
  font-weight: 600;
  letter-spacing: 1px;
  text-transform: uppercase;
`;

export const render = ({ output }) => {
  const volumes = parseDf(output);
  return (
    <div>
      <div className={title}>Disks</div>
      {volumes.length === 0 && <div>No local volumes found.</div>}
      {volumes.map((volume) => (
        <UsageBar key={volume.mount} volume={volume} />
      ))}
    </div>
  );
};
