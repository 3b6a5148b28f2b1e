/** A durable job's state: ended with an exit code, still running, gone without one, never started, or unreadable. */
export type JobState = { state: 'rc'; rc: number } | { state: 'running' } | { state: 'lost' } | { state: 'absent' } | { state: 'unknown' };
