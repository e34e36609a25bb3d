import { css, styled } from "uebersicht";

// Ask the Music app for the current track; prints nothing when Music is not running.
export const command = `osascript -e '
if application "Music" is running then
  tell application "Music"
    if player state is playing then
      return (name of current track) & "|" & (artist of current track) & "|" & (player position as integer) & "|" & (duration of current track as integer)
    end if
  end tell
end if'`;

export const refreshFrequency = 3000;

export const initialState = { title: "", artist: "", position: 0, duration: 0 };

// Keep the last track on screen between polls instead of flickering to empty.
export const updateState = (event, previous) => {
  if (event.error || !event.output || !event.output.trim()) return previous;
  const [title, artist, position, duration] = event.output.trim().split("|");
  return { title, artist, position: Number(position), duration: Number(duration) };
};

const Card = styled("div")`
  position: absolute;
  bottom: 24px;
  left: 50%;
  transform: translateX(-50%);
  min-width: 280px;
  padding: 10px 16px;
  border-radius: 12px;
  background: rgba(28, 28, 30, 0.8);
  color: #f5f5f7;
  font-family: -apple-system, sans-serif;
`;

const progress = (ratio) => css`
  height: 3px;
  margin-top: 8px;
  background: linear-gradient(
    to right,
    #ff375f ${ratio * 100}%,
    rgba(255, 255, 255, 0.2) ${ratio * 100}%
  );
`;

const minutes = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

export const render = ({ title, artist, position, duration }) => {
  if (!title) return null;
  return (
    <Card>
      <div style={{ fontWeight: 600 }}>{title}</div>
      <div style={{ opacity: 0.7 }}>{artist}</div>
      <div className={progress(duration ? position / duration : 0)} />
      <div style={{ fontSize: 10, opacity: 0.6, marginTop: 4 }}>
        {minutes(position)} / {minutes(duration)}
      </div>
    </Card>
  );
};
