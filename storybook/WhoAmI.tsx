import { useId } from 'react';
import { useCurrentUser, useDemo } from './DemoStack';

/** Switches the identity requests carry: the anon key, or one of the demo users' tokens. */
export function WhoAmI() {
  const { config, switchUser } = useDemo();
  const user = useCurrentUser();
  const name = useId();
  return (
    <fieldset className="whoami">
      <legend>Who am I?</legend>
      <div className="row">
        <label className="switch">
          <input type="radio" name={name} checked={!user} onChange={() => switchUser(null)} /> Anonymous
        </label>
        {config.users.map((candidate) => (
          <label key={candidate.id} className="switch">
            <input type="radio" name={name} checked={user?.id === candidate.id} onChange={() => switchUser(candidate.id)} /> {candidate.name}
          </label>
        ))}
      </div>
      <p role="note" className="meta">
        {user
          ? `Requests carry ${user.name}'s token (role authenticated, sub ${user.id}).`
          : 'Requests carry the anon key (role anon).'}{' '}
        Row level security decides the rows: published posts for everyone, drafts only for their author. Only a post's author may rename or delete it.
      </p>
    </fieldset>
  );
}
