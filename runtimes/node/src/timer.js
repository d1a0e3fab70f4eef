'use strict';
// The call timeout (runtimes spec 5.2), safe beyond Node's timer range.

const MAX_TIMER = 2147483647; // Node timers overflow beyond this many ms (about 24.8 days).

class TimeoutError extends Error {
  constructor() {
    super('Execution timed out.');
  }
}

/** Calls `fn` once after `ms`, even beyond the Node timer maximum; returns a cancel function. */
function longTimer(ms, fn) {
  const due = Date.now() + ms;
  let timer;
  const arm = (left) => {
    timer = setTimeout(() => {
      const rest = due - Date.now();
      if (rest > 0) arm(rest);
      else fn();
    }, Math.min(left, MAX_TIMER));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/** Races `promise` against a timeout of `ms` (null: none); rejects with TimeoutError on expiry. */
function withTimeout(promise, ms) {
  if (ms === null) return promise;
  return new Promise((resolve, fail) => {
    const cancel = longTimer(ms, () => fail(new TimeoutError()));
    promise.then((value) => { cancel(); resolve(value); }, (error) => { cancel(); fail(error); });
  });
}

module.exports = { TimeoutError, longTimer, withTimeout };
