/**
 * The server-wide bound on queued outgoing bytes. `maxBufferedBytes` bounds one socket; 30 clients
 * that stop reading each stay under it and still hold 30 × 16 MiB of the server. Over this budget,
 * the sockets that have had unsent bytes the longest are closed until the total is under it again:
 * a socket that only just fell behind (a burst the kernel will take in a moment) goes last.
 *
 * Accounting is by samples, not per frame: a connection reports its queued bytes when it flushes a
 * batch and when its net socket drains, so the hot path costs a comparison or two. A kernel that
 * drains a small rest (below the net socket's highWaterMark, so no 'drain') leaves a sample stale,
 * always too high; every slow socket is measured again before anyone is closed, so a stale sample
 * can cost a re-measure but never a socket.
 *
 * A closed socket's bytes leave the total at once, though its buffers live on through the close
 * grace period (the peer may still read up to the 1008). When the budget must close again, that
 * courtesy ends: sockets it closed before are dropped first, so memory stays near the budget under a
 * steady flood instead of growing by everything the victims of the last second still hold.
 */

/** What the budget needs of one socket. */
export interface SendBudgetMember {
  /** The bytes queued for this socket now (ws's `bufferedAmount`). */
  measure(): number;
  /** Closes the socket for the budget (a close handshake with a grace period). Its bytes have already left the total. */
  closeForBudget(reason: string): void;
  /** Drops a socket the budget closed before, with whatever it still holds. */
  terminate(): void;
}

/** One socket's share of the budget. */
export interface SendAccount {
  /** The socket's queued bytes were just measured; over the budget, slow sockets are closed. */
  update(bytes: number): void;
  /** Whether the last sample found unsent bytes. */
  readonly slow: boolean;
  /** The socket is closing: its bytes leave the total at once, and later samples count for nothing. Idempotent. */
  release(): void;
  /** The socket is gone: the budget forgets it. Idempotent. */
  closed(): void;
}

export interface SendBudget {
  /** Opens the account of one socket, with nothing queued. */
  open(member: SendBudgetMember): SendAccount;
  /** Queued outgoing bytes over every open account, as last sampled. */
  readonly totalBytes: number;
  /** Sockets the budget still knows of: open, or closing and not yet gone. */
  readonly accounts: number;
}

export type SendBudgetErrorCode = 'SEND_BUDGET_BAD_OPTION';

export class SendBudgetError extends Error {
  override readonly name = 'SendBudgetError';
  constructor(
    readonly code: SendBudgetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Default: sixteen sockets' worth of the per-socket bound (16 MiB). */
export const DEFAULT_MAX_TOTAL_BUFFERED_BYTES = 256 * 1024 * 1024;

interface Account extends SendAccount {
  readonly member: SendBudgetMember;
  bytes: number;
  state: 'open' | 'closing' | 'gone';
}

/** A budget of `maxTotalBufferedBytes` shared by every socket of one server. */
export function createSendBudget(maxTotalBufferedBytes: number = DEFAULT_MAX_TOTAL_BUFFERED_BYTES): SendBudget {
  if (!Number.isSafeInteger(maxTotalBufferedBytes) || maxTotalBufferedBytes < 1) {
    throw new SendBudgetError('SEND_BUDGET_BAD_OPTION', `maxTotalBufferedBytes must be a positive integer, got ${String(maxTotalBufferedBytes)}`);
  }
  // A close reason must fit in 123 bytes.
  const reason = `slow consumer: server-wide queued bytes passed maxTotalBufferedBytes (${maxTotalBufferedBytes}); longest-slow sockets close first`;
  let total = 0;
  let known = 0;
  /**
   * Accounts with unsent bytes, in the order they became slow: a Set keeps insertion order, and an
   * account leaves it when a sample finds it empty, so iteration is longest-slow first, without a clock.
   */
  const slow = new Set<Account>();
  /** Closed by the budget and still in their grace period. */
  const inGrace = new Set<Account>();
  let enforcing = false;

  function set(account: Account, bytes: number): void {
    total += bytes - account.bytes;
    account.bytes = bytes;
    if (bytes === 0) slow.delete(account);
    else if (!slow.has(account)) slow.add(account);
  }

  function release(account: Account): void {
    if (account.state !== 'open') return;
    account.state = 'closing';
    set(account, 0);
  }

  function enforce(): void {
    // Closing a socket never reports to the budget synchronously, but a member might: stay one pass.
    if (enforcing) return;
    enforcing = true;
    try {
      for (const account of slow) set(account, account.member.measure());
      if (total <= maxTotalBufferedBytes) return;
      // Each step is guarded: one socket's failure must not stop the rest.
      for (const account of inGrace) attempt(() => account.member.terminate());
      inGrace.clear();
      for (const account of slow) {
        if (total <= maxTotalBufferedBytes) break;
        release(account);
        inGrace.add(account);
        attempt(() => account.member.closeForBudget(reason));
      }
    } finally {
      enforcing = false;
    }
  }

  return {
    open(member) {
      const account: Account = {
        member,
        bytes: 0,
        state: 'open',
        get slow() {
          return account.bytes > 0;
        },
        update(bytes) {
          if (account.state !== 'open') return;
          if (bytes !== account.bytes) set(account, bytes);
          if (total > maxTotalBufferedBytes) enforce();
        },
        release() {
          release(account);
        },
        closed() {
          if (account.state === 'gone') return;
          release(account);
          account.state = 'gone';
          inGrace.delete(account);
          known--;
        },
      };
      known++;
      return account;
    },
    get totalBytes() {
      return total;
    },
    get accounts() {
      return known;
    },
  };
}

function attempt(step: () => void): void {
  try {
    step();
  } catch {
    // Reported by the socket's own 'error' / 'close'; the budget carries on.
  }
}
