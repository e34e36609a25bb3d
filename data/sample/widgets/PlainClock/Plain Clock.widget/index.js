// A plain-JavaScript widget: no JSX, elements are built with React.createElement.
import { React } from "uebersicht";

export const command = "date '+%H:%M|%A, %d %B'";

export const refreshFrequency = 10000;

export const className = `
  right: 40px;
  top: 40%;
  color: rgba(255, 255, 255, 0.9);
  font-family: "Helvetica Neue", sans-serif;
  text-align: right;
`;

export const render = ({ output }) => {
  const [time, date] = (output || "").trim().split("|");
  return React.createElement(
    "div",
    null,
    React.createElement("div", { style: { fontSize: 64, fontWeight: 100 } }, time),
    React.createElement("div", { style: { fontSize: 16, opacity: 0.7 } }, date)
  );
};
