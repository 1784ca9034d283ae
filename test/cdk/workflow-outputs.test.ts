/** The Pipeline stack outputs `mds runs --env` and `mds schedule --env` find the workflow by. */
import { afterAll, describe, expect, it } from 'vitest';
import { OUTPUTS } from '../../bin/commands/runs.ts';
import { synthesize } from './synth-helpers.ts';

const app = synthesize('dev');
afterAll(() => app.cleanup());

describe('the Pipeline stack outputs', () => {
  it('name the state machine and its schedule, as mds runs and mds schedule read them', () => {
    const template = app.templates.pipeline.toJSON() as {
      Resources: Record<string, { Type: string }>;
      Outputs: Record<string, { Value: unknown }>;
    };
    const id = (type: string) => Object.entries(template.Resources).find(([, r]) => r.Type === type)?.[0];
    const machine = id('AWS::StepFunctions::StateMachine');
    const schedule = id('AWS::Scheduler::Schedule');
    expect(template.Outputs[OUTPUTS.stateMachine]?.Value).toEqual({ Ref: machine });
    expect(template.Outputs[OUTPUTS.scheduleName]?.Value).toEqual({ Ref: schedule });
    expect(template.Outputs[OUTPUTS.scheduleGroup]?.Value).toBe('default');
  });
});
