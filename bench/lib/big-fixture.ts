/**
 * The large fixture the render and block-map benches walk: ≈19,000 fds (the hard RLIMIT_NOFILE
 * here is 20,000), 50 threads and `maps` mappings; one pass of the app's walk over it makes
 * 81–97 K events with 30,000 mappings.
 */
export function bigFixture(maps = 30_000) {
  return {
    threads: 50,
    files: 12_000,
    pipes: 2_000,
    eventfds: 2_000,
    memfds: 1_000,
    sockets: 2_000,
    maps,
  };
}

/** Events one pass of the walk over bigFixture() makes, or a little fewer (measured 81–97 K). */
export const EVENTS_PER_PASS = 80_000;
