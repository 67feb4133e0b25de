import { StorageError, TammaError } from '../../../errors.js';

/**
 * A file-system failure as a coded error: a TammaError already (one of ours, thrown further down)
 * passes as it is; a system error becomes a StorageError (`DISK_FULL` or `IO_ERROR`) whose message
 * says what was and was not done.
 */
export function storageError(error: unknown, message: string): TammaError {
  return error instanceof TammaError ? error : new StorageError(message, error);
}
