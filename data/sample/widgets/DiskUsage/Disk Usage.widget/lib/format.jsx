// Helpers shared by the Disk Usage widget.

const UNITS = ["KB", "MB", "GB", "TB"];

export const humanSize = (kilobytes) => {
  let value = kilobytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
};

// One volume per `df -kl` line: device, size, used, available, capacity, ..., mount point.
export const parseDf = (output) =>
  (output || "")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const cols = line.split(/\s+/);
      const size = Number(cols[1]);
      const used = Number(cols[2]);
      return {
        device: cols[0],
        size,
        used,
        percent: size ? Math.round((used / size) * 100) : 0,
        mount: cols.slice(8).join(" ") || cols[cols.length - 1],
      };
    })
    .filter((volume) => !volume.mount.startsWith("/System/Volumes"));
