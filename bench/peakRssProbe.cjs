'use strict';
// Preloaded (`node -r`) into a process whose peak memory the benchmark measures: on exit,
// writes the peak resident set size (/proc VmHWM where there is one, and getrusage maxRSS)
// to the file named by PEAK_RSS_OUT.
const { readFileSync, writeFileSync } = require('node:fs');

const out = process.env.PEAK_RSS_OUT;
if (out) {
  process.on('exit', (code) => {
    let vmHwmKb;
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
      if (m) vmHwmKb = Number(m[1]);
    } catch {
      // not Linux
    }
    writeFileSync(out, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, vmHwmKb, code }));
  });
}
