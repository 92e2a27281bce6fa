/**
 * Private channels (`config.private: true`) as a ChannelExtension: a join, and every token refresh
 * of a joined private channel, is authorized by row level security on `realtime.messages` under the
 * token's role and claims (authorization/channelPolicies.ts). A token that may neither receive
 * broadcasts nor see presence on the topic is refused with Supabase's message; what it may do is
 * kept on the channel (`policies`) for broadcast and presence to consult. Public channels stay open
 * to any valid token, as in Supabase.
 */
import pg from 'pg';
import { ChannelAuthorizationError, createChannelAuthorizer, readRefusedMessage, type ChannelAuthorizer } from '../authorization/channelPolicies.js';
import type { ChannelExtension } from './socketChannels.js';
import { channelName } from '../../../protocol/phoenix.js';


export const NO_DATABASE_MESSAGE =
  'PrivateChannelsUnavailable: private channels are authorized by row level security on realtime.messages, and this realtime server has no databaseUrl';

export interface PrivateChannelsOptions {
  /** Without one, every private join is refused (nothing could authorize it). */
  databaseUrl?: string;
  authenticator: string;
  /** How long a decision is reused for the same (topic, claims). */
  cacheMs?: number;
  onError: (error: unknown) => void;
}

export interface PrivateChannels {
  readonly extension: ChannelExtension;
  /** Forgets cached decisions (after policies or grants changed). */
  invalidate(): void;
  close(): Promise<void>;
}

/** Creates the private-channel authorization extension. */
export function createPrivateChannels(options: PrivateChannelsOptions): PrivateChannels {
  let pool: pg.Pool | undefined;
  let authorizer: ChannelAuthorizer | undefined;
  if (options.databaseUrl !== undefined) {
    // Its own sessions: a burst of private joins never waits behind (or delays) change delivery.
    // A join waits at most 5 s for one (then `UnableToAuthorize`): a flood of checks can't queue forever.
    pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2, connectionTimeoutMillis: 5000 });
    pool.on('error', options.onError);
    authorizer = createChannelAuthorizer({ pool, authenticator: options.authenticator, ...(options.cacheMs !== undefined && { cacheMs: options.cacheMs }) });
  }
  const extension: ChannelExtension = {
    async authorize(channel, claims) {
      if (!channel.config.private) return null;
      if (!authorizer) return NO_DATABASE_MESSAGE;
      const topic = channelName(channel.topic);
      let policies;
      try {
        policies = await authorizer.check(topic, claims);
      } catch (error) {
        if (!(error instanceof ChannelAuthorizationError)) throw error;
        if (error.code === 'UnableToAuthorize') options.onError(error);
        return error.message;
      }
      if (!policies.broadcast.read && !policies.presence.read) return readRefusedMessage(topic);
      // On a refresh this precedes the new claims by a moment; a refusal elsewhere shuts the channel anyway.
      channel.policies = policies;
      return null;
    },
  };
  return {
    extension,
    invalidate: () => authorizer?.invalidate(),
    close: async () => {
      await pool?.end();
    },
  };
}
