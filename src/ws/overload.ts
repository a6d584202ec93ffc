import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { measureMemory } from 'node:vm';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { HubbubError } from '../protocol/errors';

/** `global.gc` while the process runs with --expose-gc (read once: the flag cannot change at run time). */
const exposedGc = (globalThis as { gc?: () => void }).gc;

/** How often the heap is looked at (one timer per instance). */
export const OVERLOAD_SAMPLE_MS = 1000;
/** What an `overloaded` refusal tells the client to wait. */
export const OVERLOAD_RETRY_AFTER_MS = 2000;
/** While overloaded with no major GC for this long, the instance asks V8 for one (see the class comment). */
export const OVERLOAD_RECHECK_MS = 5000;

/**
 * Overload as a state (OVERLOAD_HEAP_RATIO): while the V8 heap in use is above that share of `heap_size_limit`,
 * new handshakes get 503 and joins, subscribes and message-carrying requests get `overloaded`; what the instance
 * holds it keeps serving. Sampled on one cheap interval timer, never per request.
 *
 * Heap "in use" counts garbage until a GC collects it, so the measure is the smaller of the heap used now and the
 * heap used just after the last major GC (seen through a PerformanceObserver on 'gc'): a heap that only holds
 * garbage above the line is not overloaded, and one whose live data is above it is, as soon as V8's next major GC
 * proves it (V8 runs them as the heap approaches its limit). When the load leaves, what it held is garbage that an
 * idle instance may never collect by itself (measured: no major GC in 45 s of idling, so it stayed overloaded). So
 * while overloaded, and only then, with no major GC for OVERLOAD_RECHECK_MS, it asks V8 for one: at most one GC
 * every 5 s, only in the state where refusing work costs more than the pause. The instance accepts again within a
 * few seconds of the load leaving.
 *
 * How it asks: `global.gc()` when the process runs with `--expose-gc`; otherwise
 * `vm.measureMemory({execution: 'eager'})`, the one public API that runs a full GC without that flag. Node marks it
 * experimental and prints one `ExperimentalWarning` line (two with its `--trace-warnings` hint) the first time, once
 * per process, only once the instance has been overloaded. No flag-free way avoids it (on Node 24 `v8.queryObjects`
 * warns the same way, a heap snapshot serializes the whole heap, and allocating garbage until V8 collects is not
 * bounded under the very memory pressure this is for); `--expose-gc` in NODE_OPTIONS does (docs/configuration.md).
 */
@Injectable()
export class Overload implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Overload');
  /** Read on every handshake and message-carrying request: a plain field. */
  active = false;
  private readonly limitBytes: number;
  private afterMajorGc?: number;
  private lastMajorGc = 0;
  private measuring = false;
  private timer?: NodeJS.Timeout;
  private observer?: PerformanceObserver;

  constructor(@Inject(HUBBUB_CONFIG) config: HubbubConfig) {
    this.limitBytes = config.overloadHeapRatio * getHeapStatistics().heap_size_limit;
  }

  onModuleInit(): void {
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.afterGc();
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => this.sample(), OVERLOAD_SAMPLE_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.observer?.disconnect();
  }

  /** Looks at the heap once; returns whether the instance is overloaded. */
  sample(): boolean {
    const used = getHeapStatistics().used_heap_size;
    const live = Math.min(used, this.afterMajorGc ?? used);
    const over = live > this.limitBytes;
    if (over !== this.active) {
      const mb = (bytes: number): string => `${Math.round(bytes / 1048576)} MB`;
      if (over) {
        this.log.warn(
          `overloaded: heap ${mb(live)} in use, over ${mb(this.limitBytes)} (OVERLOAD_HEAP_RATIO); refusing new work`,
        );
      } else this.log.log(`no longer overloaded: heap ${mb(live)} in use; accepting again`);
    }
    this.active = over;
    if (over && !this.measuring && Date.now() - this.lastMajorGc > OVERLOAD_RECHECK_MS) {
      this.measuring = true;
      // Runs a full GC now; the 'gc' observer (and this) then see the heap used after it.
      if (exposedGc) {
        exposedGc();
        this.afterGc();
      } else {
        measureMemory({ mode: 'summary', execution: 'eager' }).then(
          () => this.afterGc(),
          () => undefined,
        );
      }
    }
    return over;
  }

  private afterGc(): void {
    this.afterMajorGc = getHeapStatistics().used_heap_size;
    this.lastMajorGc = Date.now();
    this.measuring = false;
  }

  /** The refusal of a request while overloaded. */
  error(): HubbubError {
    return new HubbubError('overloaded', undefined, { retryAfterMs: OVERLOAD_RETRY_AFTER_MS });
  }
}
