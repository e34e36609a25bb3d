// World Clock Atlas: a searchable clock for every city in CITIES.
// The city table is data, kept inline so the widget is one self-contained file.
import { React, css } from "uebersicht";

export const command = undefined;
export const refreshFrequency = false;

// [city, ISO country code, IANA time zone, latitude, longitude]
const CITIES = [
  ["Abidjan", "CI", "Africa/Abidjan", 5.32, -4.03],
  ["Addis Ababa", "ET", "Africa/Addis_Ababa", 9.03, 38.7],
  ["Asmara", "ER", "Africa/Asmara", 15.33, 38.88],
  ["Bangui", "CF", "Africa/Bangui", 4.37, 18.58],
  ["Bissau", "GW", "Africa/Bissau", 11.85, -15.58],
  ["Brazzaville", "CG", "Africa/Brazzaville", -4.27, 15.28],
  ["Cairo", "EG", "Africa/Cairo", 30.05, 31.25],
  ["Ceuta", "ES", "Africa/Ceuta", 35.88, -5.32],
  ["Dar es Salaam", "TZ", "Africa/Dar_es_Salaam", -6.8, 39.28],
  ["Douala", "CM", "Africa/Douala", 4.05, 9.7],
  ["Freetown", "SL", "Africa/Freetown", 8.5, -13.25],
  ["Harare", "ZW", "Africa/Harare", -17.83, 31.05],
  ["Juba", "SS", "Africa/Juba", 4.85, 31.62],
  ["Khartoum", "SD", "Africa/Khartoum", 15.6, 32.53],
  ["Kinshasa", "CD", "Africa/Kinshasa", -4.3, 15.3],
  ["Lome", "TG", "Africa/Lome", 6.13, 1.22],
  ["Lubumbashi", "CD", "Africa/Lubumbashi", -11.67, 27.47],
  ["Malabo", "GQ", "Africa/Malabo", 3.75, 8.78],
  ["Maseru", "LS", "Africa/Maseru", -29.47, 27.5],
  ["Mogadishu", "SO", "Africa/Mogadishu", 2.07, 45.37],
  ["Nairobi", "KE", "Africa/Nairobi", -1.28, 36.82],
  ["Niamey", "NE", "Africa/Niamey", 13.52, 2.12],
  ["Porto-Novo", "BJ", "Africa/Porto-Novo", 6.48, 2.62],
  ["Tripoli", "LY", "Africa/Tripoli", 32.9, 13.18],
  ["Windhoek", "NA", "Africa/Windhoek", -22.57, 17.1],
  ["Anchorage", "US", "America/Anchorage", 61.22, -149.9],
  ["Antigua", "AG", "America/Antigua", 17.05, -61.8],
  ["Aruba", "AW", "America/Aruba", 12.5, -69.97],
  ["Atikokan", "CA", "America/Atikokan", 48.76, -91.62],
  ["Bahia Banderas", "MX", "America/Bahia_Banderas", 20.8, -105.25],
  ["Belize", "BZ", "America/Belize", 17.5, -88.2],
  ["Blanc-Sablon", "CA", "America/Blanc-Sablon", 51.42, -57.12],
  ["Bogota", "CO", "America/Bogota", 4.6, -74.08],
  ["Buenos Aires", "AR", "America/Argentina/Buenos_Aires", -34.6, -58.45],
  ["Campo Grande", "BR", "America/Campo_Grande", -20.45, -54.62],
  ["Caracas", "VE", "America/Caracas", 10.5, -66.93],
  ["Cayenne", "GF", "America/Cayenne", 4.93, -52.33],
  ["Chicago", "US", "America/Chicago", 41.85, -87.65],
  ["Ciudad Juarez", "MX", "America/Ciudad_Juarez", 31.73, -106.48],
  ["Costa Rica", "CR", "America/Costa_Rica", 9.93, -84.08],
  ["Creston", "CA", "America/Creston", 49.1, -116.52],
  ["Curacao", "CW", "America/Curacao", 12.18, -69.0],
  ["Dawson", "CA", "America/Dawson", 64.07, -139.42],
  ["Denver", "US", "America/Denver", 39.74, -104.98],
  ["Edmonton", "CA", "America/Edmonton", 53.55, -113.47],
  ["El Salvador", "SV", "America/El_Salvador", 13.7, -89.2],
  ["Fortaleza", "BR", "America/Fortaleza", -3.72, -38.5],
  ["Goose Bay", "CA", "America/Goose_Bay", 53.33, -60.42],
  ["Grenada", "GD", "America/Grenada", 12.05, -61.75],
  ["Guatemala", "GT", "America/Guatemala", 14.63, -90.52],
  ["Guyana", "GY", "America/Guyana", 6.8, -58.17],
  ["Havana", "CU", "America/Havana", 23.13, -82.37],
  ["Inuvik", "CA", "America/Inuvik", 68.35, -133.72],
  ["Jamaica", "JM", "America/Jamaica", 17.97, -76.79],
  ["Juneau", "US", "America/Juneau", 58.3, -134.42],
  ["Kralendijk", "BQ", "America/Kralendijk", 12.15, -68.28],
  ["La Rioja", "AR", "America/Argentina/La_Rioja", -29.43, -66.85],
  ["Los Angeles", "US", "America/Los_Angeles", 34.05, -118.24],
  ["Lower Princes", "SX", "America/Lower_Princes", 18.05, -63.05],
  ["Manaus", "BR", "America/Manaus", -3.13, -60.02],
  ["Marigot", "MF", "America/Marigot", 18.07, -63.08],
  ["Matamoros", "MX", "America/Matamoros", 25.83, -97.5],
  ["Mendoza", "AR", "America/Argentina/Mendoza", -32.88, -68.82],
  ["Merida", "MX", "America/Merida", 20.97, -89.62],
  ["Mexico City", "MX", "America/Mexico_City", 19.4, -99.15],
  ["Moncton", "CA", "America/Moncton", 46.1, -64.78],
  ["Monticello", "US", "America/Kentucky/Monticello", 36.83, -84.85],
  ["Nassau", "BS", "America/Nassau", 25.08, -77.35],
  ["New York", "US", "America/New_York", 40.71, -74.01],
  ["Noronha", "BR", "America/Noronha", -3.85, -32.42],
  ["Ojinaga", "MX", "America/Ojinaga", 29.57, -104.42],
  ["Paramaribo", "SR", "America/Paramaribo", 5.83, -55.17],
  ["Phoenix", "US", "America/Phoenix", 33.45, -112.07],
  ["Port-au-Prince", "HT", "America/Port-au-Prince", 18.53, -72.33],
  ["Punta Arenas", "CL", "America/Punta_Arenas", -53.15, -70.92],
  ["Recife", "BR", "America/Recife", -8.05, -34.9],
  ["Resolute", "CA", "America/Resolute", 74.7, -94.83],
  ["Rio Gallegos", "AR", "America/Argentina/Rio_Gallegos", -51.63, -69.22],
  ["San Juan", "AR", "America/Argentina/San_Juan", -31.53, -68.52],
  ["Santarem", "BR", "America/Santarem", -2.43, -54.87],
  ["Santo Domingo", "DO", "America/Santo_Domingo", 18.47, -69.9],
  ["Sitka", "US", "America/Sitka", 57.18, -135.3],
  ["St Johns", "CA", "America/St_Johns", 47.57, -52.72],
  ["St Lucia", "LC", "America/St_Lucia", 14.02, -61.0],
  ["St Vincent", "VC", "America/St_Vincent", 13.15, -61.23],
  ["Tegucigalpa", "HN", "America/Tegucigalpa", 14.1, -87.22],
  ["Thule", "GL", "America/Thule", 76.57, -68.78],
  ["Toronto", "CA", "America/Toronto", 43.65, -79.38],
  ["Ushuaia", "AR", "America/Argentina/Ushuaia", -54.8, -68.3],
  ["Vevay", "US", "America/Indiana/Vevay", 38.75, -85.07],
  ["Whitehorse", "CA", "America/Whitehorse", 60.72, -135.05],
  ["Winnipeg", "CA", "America/Winnipeg", 49.88, -97.15],
  ["Aden", "YE", "Asia/Aden", 12.75, 45.2],
  ["Amman", "JO", "Asia/Amman", 31.95, 35.93],
  ["Aqtau", "KZ", "Asia/Aqtau", 44.52, 50.27],
  ["Atyrau", "KZ", "Asia/Atyrau", 47.12, 51.93],
  ["Bahrain", "BH", "Asia/Bahrain", 26.38, 50.58],
  ["Bangkok", "TH", "Asia/Bangkok", 13.75, 100.52],
  ["Beirut", "LB", "Asia/Beirut", 33.88, 35.5],
  ["Brunei", "BN", "Asia/Brunei", 4.93, 114.92],
  ["Colombo", "LK", "Asia/Colombo", 6.93, 79.85],
  ["Dhaka", "BD", "Asia/Dhaka", 23.72, 90.42],
  ["Dubai", "AE", "Asia/Dubai", 25.3, 55.3],
  ["Gaza", "PS", "Asia/Gaza", 31.5, 34.47],
  ["Ho Chi Minh", "VN", "Asia/Ho_Chi_Minh", 10.75, 106.67],
  ["Hovd", "MN", "Asia/Hovd", 48.02, 91.65],
  ["Jakarta", "ID", "Asia/Jakarta", -6.17, 106.8],
  ["Jerusalem", "IL", "Asia/Jerusalem", 31.78, 35.22],
  ["Kamchatka", "RU", "Asia/Kamchatka", 53.02, 158.65],
  ["Kathmandu", "NP", "Asia/Kathmandu", 27.72, 85.32],
  ["Krasnoyarsk", "RU", "Asia/Krasnoyarsk", 56.02, 92.83],
  ["Kuching", "MY", "Asia/Kuching", 1.55, 110.33],
  ["Macau", "MO", "Asia/Macau", 22.2, 113.54],
  ["Makassar", "ID", "Asia/Makassar", -5.12, 119.4],
  ["Muscat", "OM", "Asia/Muscat", 23.6, 58.58],
  ["Novokuznetsk", "RU", "Asia/Novokuznetsk", 53.75, 87.12],
  ["Omsk", "RU", "Asia/Omsk", 55.0, 73.4],
  ["Pontianak", "ID", "Asia/Pontianak", -0.03, 109.33],
  ["Qatar", "QA", "Asia/Qatar", 25.28, 51.53],
  ["Qyzylorda", "KZ", "Asia/Qyzylorda", 44.8, 65.47],
  ["Sakhalin", "RU", "Asia/Sakhalin", 46.97, 142.7],
  ["Seoul", "KR", "Asia/Seoul", 37.55, 126.97],
  ["Singapore", "SG", "Asia/Singapore", 1.28, 103.85],
  ["Taipei", "TW", "Asia/Taipei", 25.05, 121.5],
  ["Tbilisi", "GE", "Asia/Tbilisi", 41.72, 44.82],
  ["Tokyo", "JP", "Asia/Tokyo", 35.65, 139.74],
  ["Ulaanbaatar", "MN", "Asia/Ulaanbaatar", 47.92, 106.88],
  ["Ust-Nera", "RU", "Asia/Ust-Nera", 64.56, 143.23],
  ["Vladivostok", "RU", "Asia/Vladivostok", 43.17, 131.93],
  ["Yangon", "MM", "Asia/Yangon", 16.78, 96.17],
  ["Yerevan", "AM", "Asia/Yerevan", 40.18, 44.5],
  ["Bermuda", "BM", "Atlantic/Bermuda", 32.28, -64.77],
  ["Faroe", "FO", "Atlantic/Faroe", 62.02, -6.77],
  ["Reykjavik", "IS", "Atlantic/Reykjavik", 64.15, -21.85],
  ["St Helena", "SH", "Atlantic/St_Helena", -15.92, -5.7],
  ["Adelaide", "AU", "Australia/Adelaide", -34.92, 138.58],
  ["Broken Hill", "AU", "Australia/Broken_Hill", -31.95, 141.45],
  ["Eucla", "AU", "Australia/Eucla", -31.72, 128.87],
  ["Lindeman", "AU", "Australia/Lindeman", -20.27, 149.0],
  ["Perth", "AU", "Australia/Perth", -31.95, 115.85],
  ["Amsterdam", "NL", "Europe/Amsterdam", 52.37, 4.9],
  ["Astrakhan", "RU", "Europe/Astrakhan", 46.35, 48.05],
  ["Belgrade", "RS", "Europe/Belgrade", 44.83, 20.5],
  ["Bratislava", "SK", "Europe/Bratislava", 48.15, 17.12],
  ["Bucharest", "RO", "Europe/Bucharest", 44.43, 26.1],
  ["Busingen", "DE", "Europe/Busingen", 47.7, 8.68],
  ["Copenhagen", "DK", "Europe/Copenhagen", 55.67, 12.58],
  ["Guernsey", "GG", "Europe/Guernsey", 49.45, -2.54],
  ["Isle of Man", "IM", "Europe/Isle_of_Man", 54.15, -4.47],
  ["Jersey", "JE", "Europe/Jersey", 49.18, -2.11],
  ["Kirov", "RU", "Europe/Kirov", 58.6, 49.65],
  ["Lisbon", "PT", "Europe/Lisbon", 38.72, -9.13],
  ["London", "GB", "Europe/London", 51.51, -0.13],
  ["Madrid", "ES", "Europe/Madrid", 40.4, -3.68],
  ["Minsk", "BY", "Europe/Minsk", 53.9, 27.57],
  ["Moscow", "RU", "Europe/Moscow", 55.76, 37.62],
  ["Paris", "FR", "Europe/Paris", 48.87, 2.33],
  ["Prague", "CZ", "Europe/Prague", 50.08, 14.43],
  ["Rome", "IT", "Europe/Rome", 41.9, 12.48],
  ["San Marino", "SM", "Europe/San_Marino", 43.92, 12.47],
  ["Saratov", "RU", "Europe/Saratov", 51.57, 46.03],
  ["Sofia", "BG", "Europe/Sofia", 42.68, 23.32],
  ["Tallinn", "EE", "Europe/Tallinn", 59.42, 24.75],
  ["Ulyanovsk", "RU", "Europe/Ulyanovsk", 54.33, 48.4],
  ["Vatican", "VA", "Europe/Vatican", 41.9, 12.45],
  ["Vilnius", "LT", "Europe/Vilnius", 54.68, 25.32],
  ["Warsaw", "PL", "Europe/Warsaw", 52.25, 21.0],
  ["Zurich", "CH", "Europe/Zurich", 47.38, 8.53],
  ["Chagos", "IO", "Indian/Chagos", -7.33, 72.42],
  ["Comoro", "KM", "Indian/Comoro", -11.68, 43.27],
  ["Mahe", "SC", "Indian/Mahe", -4.67, 55.47],
  ["Mauritius", "MU", "Indian/Mauritius", -20.17, 57.5],
  ["Reunion", "RE", "Indian/Reunion", -20.87, 55.47],
  ["Auckland", "NZ", "Pacific/Auckland", -36.87, 174.77],
  ["Chatham", "NZ", "Pacific/Chatham", -43.95, -176.55],
  ["Easter", "CL", "Pacific/Easter", -27.15, -109.43],
  ["Fiji", "FJ", "Pacific/Fiji", -18.13, 178.42],
  ["Galapagos", "EC", "Pacific/Galapagos", -0.9, -89.6],
  ["Guadalcanal", "SB", "Pacific/Guadalcanal", -9.53, 160.2],
  ["Honolulu", "US", "Pacific/Honolulu", 21.31, -157.86],
  ["Kiritimati", "KI", "Pacific/Kiritimati", 1.87, -157.33],
  ["Kwajalein", "MH", "Pacific/Kwajalein", 9.08, 167.33],
  ["Marquesas", "PF", "Pacific/Marquesas", -9.0, -139.5],
  ["Niue", "NU", "Pacific/Niue", -19.02, -169.92],
  ["Noumea", "NC", "Pacific/Noumea", -22.27, 166.45],
  ["Palau", "PW", "Pacific/Palau", 7.33, 134.48],
  ["Pohnpei", "FM", "Pacific/Pohnpei", 6.97, 158.22],
  ["Rarotonga", "CK", "Pacific/Rarotonga", -21.23, -159.77],
  ["Tahiti", "PF", "Pacific/Tahiti", -17.53, -149.57],
  ["Tongatapu", "TO", "Pacific/Tongatapu", -21.13, -175.2],
];

const REGIONS = ["All", ...new Set(CITIES.map(([, , zone]) => zone.split("/")[0]))];

const panel = css`
  position: absolute;
  top: 20px;
  left: 20px;
  width: 420px;
  max-height: 80vh;
  overflow-y: auto;
  padding: 12px;
  border-radius: 12px;
  background: rgba(12, 16, 24, 0.8);
  color: #e5e7eb;
  font: 12px -apple-system, sans-serif;
`;

const search = css`
  width: 100%;
  margin-bottom: 8px;
  padding: 6px 8px;
  border: none;
  border-radius: 6px;
  background: rgba(255, 255, 255, 0.1);
  color: inherit;
`;

const tabs = css`
  display: flex;
  flex-wrap: wrap;
  gap: 4px;
  margin-bottom: 8px;
`;

const tab = (active) => css`
  padding: 2px 8px;
  border-radius: 10px;
  background: ${active ? "#2563eb" : "rgba(255, 255, 255, 0.08)"};
  cursor: pointer;
`;

const row = (night) => css`
  display: grid;
  grid-template-columns: 1fr 40px 70px 60px;
  padding: 3px 0;
  border-bottom: 1px solid rgba(255, 255, 255, 0.05);
  opacity: ${night ? 0.55 : 1};
`;

const timeIn = (zone, now) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(now);

const hourIn = (zone, now) =>
  Number(new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "numeric", hourCycle: "h23" }).format(now));

const offsetIn = (zone, now) => {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" })
    .formatToParts(now)
    .find((p) => p.type === "timeZoneName");
  return part ? part.value.replace("GMT", "UTC") : "";
};

const hemisphere = (lat) => (lat >= 0 ? "N" : "S");

const Atlas = () => {
  const [now, setNow] = React.useState(new Date());
  const [query, setQuery] = React.useState("");
  const [region, setRegion] = React.useState("All");

  React.useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 30 * 1000);
    return () => clearInterval(timer);
  }, []);

  const needle = query.trim().toLowerCase();
  const shown = CITIES.filter(([city, country, zone]) => {
    if (region !== "All" && !zone.startsWith(region + "/")) return false;
    if (!needle) return true;
    return (
      city.toLowerCase().includes(needle) ||
      country.toLowerCase() === needle ||
      zone.toLowerCase().includes(needle)
    );
  });

  return (
    <div className={panel}>
      <input
        className={search}
        placeholder="City, country code or zone"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className={tabs}>
        {REGIONS.map((r) => (
          <span key={r} className={tab(r === region)} onClick={() => setRegion(r)}>
            {r}
          </span>
        ))}
      </div>
      {shown.map(([city, country, zone, lat]) => {
        const hour = hourIn(zone, now);
        return (
          <div key={zone} className={row(hour < 7 || hour >= 21)} title={`${zone} · ${Math.abs(lat)}°${hemisphere(lat)}`}>
            <span>{city}</span>
            <span>{country}</span>
            <span>{offsetIn(zone, now)}</span>
            <b>{timeIn(zone, now)}</b>
          </div>
        );
      })}
      <div style={{ marginTop: 6, opacity: 0.6 }}>
        {shown.length} of {CITIES.length} cities
      </div>
    </div>
  );
};

export const render = () => <Atlas />;
