// Goal: failpoints fire exactly on their Nth hit and parse from SHARDLEDGER_FAILPOINTS; pure, in-process ('throw' only).
import { afterEach, describe, expect, it } from 'vitest';
import { isLedgerError } from '@shardledger/ledger-core';
import {
  armFailpoint,
  armFailpointsFromEnv,
  armedFailpoints,
  disarmAllFailpoints,
  failpoint,
  parseFailpointSpec,
} from '../src/failpoints.js';

afterEach(() => disarmAllFailpoints());

function throwsFailpoint(name: string): boolean {
  try {
    failpoint(name);
  } catch (error) {
    expect(isLedgerError(error, 'FAILPOINT')).toBe(true);
    return true;
  }
  return false;
}

describe('failpoints', () => {
  it('does nothing at a point that is not armed', () => {
    expect(throwsFailpoint('saga.reserve.before')).toBe(false);
  });

  it('throws on exactly the Nth hit and then disarms itself', () => {
    armFailpoint('saga.commit.before', { action: 'throw', after: 3 });
    expect([1, 2, 3, 4].map(() => throwsFailpoint('saga.commit.before'))).toEqual([
      false,
      false,
      true,
      false,
    ]);
    expect(armedFailpoints()).toEqual([]);
  });

  it('parses the env var format with counts and defaults', () => {
    expect(parseFailpointSpec(' a.b=kill-process@3, c=throw ,d=exit-worker')).toEqual([
      { name: 'a.b', options: { action: 'kill-process', after: 3 } },
      { name: 'c', options: { action: 'throw', after: 1 } },
      { name: 'd', options: { action: 'exit-worker', after: 1 } },
    ]);
    expect(() => parseFailpointSpec('a=explode')).toThrowError(/INVALID_ARGUMENT/);
    expect(() => parseFailpointSpec('nameonly')).toThrowError(/INVALID_ARGUMENT/);
  });

  it('arms every point named in the spec', () => {
    armFailpointsFromEnv('x=throw@2,y=throw');
    expect(armedFailpoints().sort()).toEqual(['x', 'y']);
    expect(throwsFailpoint('y')).toBe(true);
    expect(throwsFailpoint('x')).toBe(false);
    expect(throwsFailpoint('x')).toBe(true);
  });

  it('refuses exit-worker in the main thread instead of ending the process', () => {
    armFailpoint('main.point', { action: 'exit-worker' });
    expect(throwsFailpoint('main.point')).toBe(true);
  });

  it('refuses invalid arming options', () => {
    expect(() => armFailpoint('p', { action: 'throw', after: 0 })).toThrowError(/INVALID_ARGUMENT/);
    expect(() => armFailpoint('', { action: 'throw' })).toThrowError(/INVALID_ARGUMENT/);
  });
});
