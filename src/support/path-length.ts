import { resolve, sep } from 'node:path';
import { ValidationError, type ValidationCode } from '../errors.js';

/** Linux limits: a name is at most 255 bytes, a whole path at most 4,095 (PATH_MAX less the NUL). */
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 4095;
/** Room kept for the files the store and the archive make under their directory. */
const ROOM_FOR_FILES = 256;

/**
 * Refuses a directory path the file system would refuse with a raw ENAMETOOLONG later (on open, or
 * in the middle of a cleanup), so the caller gets a coded error naming the option at the door.
 */
export function checkPathLength(dir: string, where: string, code: ValidationCode = 'INVALID_OPTION'): void {
  const absolute = resolve(dir);
  const total = Buffer.byteLength(absolute);
  if (total > MAX_PATH_BYTES - ROOM_FOR_FILES) {
    throw new ValidationError(
      where,
      `is ${total} bytes long once resolved; a store or archive directory must stay under ${MAX_PATH_BYTES - ROOM_FOR_FILES} bytes so the files in it fit the ${MAX_PATH_BYTES}-byte path limit`,
      code,
    );
  }
  const long = absolute.split(sep).find((part) => Buffer.byteLength(part) > MAX_NAME_BYTES);
  if (long !== undefined) {
    throw new ValidationError(
      where,
      `has a name of ${Buffer.byteLength(long)} bytes (${JSON.stringify(long.slice(0, 20))}...); file names are limited to ${MAX_NAME_BYTES} bytes`,
      code,
    );
  }
}

/** The same refusal for an ENAMETOOLONG the check could not foresee (a symlink that resolves longer). */
export function nameTooLong(error: unknown, dir: string, where: string): unknown {
  if ((error as NodeJS.ErrnoException | null)?.code !== 'ENAMETOOLONG') return error;
  return new ValidationError(
    where,
    `${JSON.stringify(dir.length > 60 ? `${dir.slice(0, 57)}...` : dir)} leads to a path the file system refuses as too long (ENAMETOOLONG): ${(error as Error).message.slice(0, 120)}`,
    'INVALID_OPTION',
  );
}
