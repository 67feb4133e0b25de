import { InvalidArgumentError } from 'commander';
import type { TagValue } from '../index.js';

/** What `--tag` options accumulate into: the `tags` field of QueryCriteria. */
export type TagCriteria = Record<string, TagValue[]>;

function isTagValue(value: unknown): value is TagValue {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * Parses `key=value` (the value is always a string) or `key:=json` (a JSON literal: a number, a
 * boolean, a string or an array of those). Tags are typed, so `issueId=42` and `issueId:=42` match
 * different events; the explicit `:=` keeps the shell from guessing for the user.
 */
export function tagArg(value: string, previous: TagCriteria | undefined): TagCriteria {
  const typed = /^([^=:]+):=(.*)$/s.exec(value);
  const plain = typed ? null : /^([^=]+)=(.*)$/s.exec(value);
  const key = (typed ?? plain)?.[1];
  const raw = (typed ?? plain)?.[2];
  if (key === undefined || raw === undefined || key.length === 0) {
    throw new InvalidArgumentError(
      'expected key=value (a string) or key:=json (e.g. issueId:=42, draft:=true).',
    );
  }
  let values: TagValue[];
  if (typed) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidArgumentError(
        `the value after ${key}:= must be JSON, e.g. ${key}:=42 or ${key}:='"text"'.`,
      );
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    if (list.length === 0 || !list.every(isTagValue)) {
      throw new InvalidArgumentError(
        `the value after ${key}:= must be a string, number or boolean, or an array of them.`,
      );
    }
    values = list;
  } else {
    values = [raw];
  }
  const next: TagCriteria = { ...previous };
  next[key] = [...(next[key] ?? []), ...values];
  return next;
}
