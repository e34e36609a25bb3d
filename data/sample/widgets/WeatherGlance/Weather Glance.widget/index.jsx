// Reads a forecast that another tool caches as JSON; the widget itself never goes online.
export const command = "cat \"$HOME/.cache/weather-glance.json\" 2>/dev/null || echo '{}'";

export const refreshFrequency = 10 * 60 * 1000;

// A plain className string: Übersicht scopes these rules to the widget's root element.
export const className = `
  left: 30px;
  bottom: 30px;
  color: #fff;
  font-family: Avenir Next, sans-serif;
  text-shadow: 0 1px 3px rgba(0, 0, 0, 0.6);

  .now {
    font-size: 48px;
    font-weight: 200;
  }

  .place {
    font-size: 14px;
    opacity: 0.8;
  }

  .days {
    display: flex;
    gap: 14px;
    margin-top: 8px;
    font-size: 12px;
  }

  .day span {
    display: block;
    text-align: center;
  }
`;

const ICONS = { clear: "☀️", clouds: "☁️", rain: "🌧", snow: "❄️", storm: "⛈", fog: "🌫" };

const parse = (output) => {
  try {
    return JSON.parse(output);
  } catch (e) {
    return {};
  }
};

export const render = ({ output }) => {
  const data = parse(output);
  if (!data.now) return <div className="place">No forecast cached yet.</div>;
  return (
    <div>
      <div className="now">
        {ICONS[data.now.sky] || "·"} {Math.round(data.now.temp)}°
      </div>
      <div className="place">{data.place}</div>
      <div className="days">
        {(data.days || []).slice(0, 5).map((day) => (
          <div className="day" key={day.name}>
            <span>{day.name}</span>
            <span>{ICONS[day.sky] || "·"}</span>
            <span>
              {Math.round(day.high)}° / {Math.round(day.low)}°
            </span>
          </div>
        ))}
      </div>
    </div>
  );
};
