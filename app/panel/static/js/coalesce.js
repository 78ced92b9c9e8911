// Turn bursts of "something changed" into one call of an async refresh.

// A function that asks for fn to run within delayMs; requests made while fn runs
// lead to exactly one more run afterwards.
export function coalesced(fn, delayMs) {
  let timer = null;
  let running = false;
  let again = false;

  async function run() {
    timer = null;
    running = true;
    try {
      await fn();
    } catch (error) {
      console.warn('Refresh failed', error);
    } finally {
      running = false;
      if (again) {
        again = false;
        request();
      }
    }
  }

  function request() {
    if (running) again = true;
    else if (!timer) timer = setTimeout(run, delayMs);
  }

  return request;
}
