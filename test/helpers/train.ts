import type { TrainEvent } from '../../src/train/events.js';
import type { TrainOptions } from '../../src/train/options.js';
import { type TrainResult, train } from '../../src/train/trainer.js';

/**
 * `train`, interrupted as SIGINT interrupts it once it reports step `step` (never when it is
 * undefined): the first part of a run that a resume finishes with the same limits, and so the
 * same learning-rate schedule. `onEvent` sees every event.
 */
export function trainUntilStep(
  options: TrainOptions, paths: string[], step?: number, onEvent?: (event: TrainEvent) => void,
): Promise<TrainResult> {
  const controller = new AbortController();
  return train(options, paths, {
    signal: controller.signal,
    onEvent: (event) => {
      onEvent?.(event);
      if (event.event === 'step' && event.step === step) controller.abort('SIGINT');
    },
  });
}
