import { css } from "uebersicht";

export const command = "date +%Y-%m-%d";

// Once an hour is enough to roll over to a new day.
export const refreshFrequency = 60 * 60 * 1000;

const WEEKDAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

const calendar = css`
  position: absolute;
  top: 30px;
  left: 280px;
  padding: 12px;
  border-radius: 8px;
  background: rgba(255, 255, 255, 0.08);
  color: #ddd;
  font: 12px Menlo, monospace;
`;

const grid = css`
  display: grid;
  grid-template-columns: repeat(7, 26px);
  row-gap: 4px;
  text-align: center;
`;

const today = css`
  border-radius: 50%;
  background: #0a84ff;
  color: white;
`;

const header = css`
  margin-bottom: 6px;
  text-align: center;
  font-weight: bold;
`;

// Monday-first grid: blanks before the 1st, then every day of the month.
const monthCells = (year, month) => {
  const first = new Date(year, month, 1).getDay();
  const blanks = (first + 6) % 7;
  const days = new Date(year, month + 1, 0).getDate();
  return [...Array(blanks).fill(null), ...Array.from({ length: days }, (_, i) => i + 1)];
};

export const render = ({ output }) => {
  const [year, month, day] = (output || "").trim().split("-").map(Number);
  if (!year) return null;
  const name = new Date(year, month - 1, 1).toLocaleString("en", { month: "long" });
  return (
    <div className={calendar}>
      <div className={header}>
        {name} {year}
      </div>
      <div className={grid}>
        {WEEKDAYS.map((w) => (
          <b key={w}>{w}</b>
        ))}
        {monthCells(year, month - 1).map((d, i) => (
          <span key={i} className={d === day ? today : undefined}>
            {d || ""}
          </span>
        ))}
      </div>
    </div>
  );
};
