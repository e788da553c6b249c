/** The worker pool's page: leaves the report (or the error) on `kilnThreads` for the test to read. */
import { runThreads } from './product.js';

const target = globalThis as { kilnThreads?: unknown };
try {
  target.kilnThreads = await runThreads();
} catch (e) {
  target.kilnThreads = { error: (e as Error).stack ?? String(e) };
}
