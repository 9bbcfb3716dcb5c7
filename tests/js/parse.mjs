// Reads iCalendar files with Mozilla's ical.js (the parser Thunderbird uses) and prints, as JSON,
// each file's calendar name and each VEVENT's UID, start, end, sequence, status and summary.
// Dates print as YYYY-MM-DD, date-times as UTC ISO instants (after resolving the feed's VTIMEZONE).
// Usage: node parse.mjs FILE... ; exits non-zero (with the error on stderr) when a file cannot be read.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function when(t) {
  if (!t) return null;
  if (t.isDate) {
    const p = (n, w) => String(n).padStart(w, "0");
    return `${p(t.year, 4)}-${p(t.month, 2)}-${p(t.day, 2)}`;
  }
  if (t.zone && t.zone.tzid === "floating") throw new Error(`floating time ${t.toString()}`);
  return new Date(t.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

const out = {};
for (const file of process.argv.slice(2)) {
  const cal = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  if (cal.name !== "vcalendar") throw new Error(`${file}: not a VCALENDAR`);
  for (const tz of cal.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(tz);
  const events = {};
  for (const v of cal.getAllSubcomponents("vevent")) {
    const ev = new ICAL.Event(v);
    if (!ev.uid) throw new Error(`${file}: VEVENT without UID`);
    if (ev.uid in events) throw new Error(`${file}: duplicate UID ${ev.uid}`);
    events[ev.uid] = {
      start: when(ev.startDate), end: when(ev.endDate), sequence: ev.sequence,
      status: v.getFirstPropertyValue("status"), summary: ev.summary,
      tzid: ev.startDate.isDate ? null : ev.startDate.zone.tzid,
    };
  }
  out[file] = { name: cal.getFirstPropertyValue("x-wr-calname"), events };
}
process.stdout.write(JSON.stringify(out));
