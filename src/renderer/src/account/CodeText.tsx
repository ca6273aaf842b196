// A one-time code in large, spaced groups, read aloud group by group. The page's text is the
// code itself (data-code), so that it can be copied whole.
import { codeGroups } from '../model/account.ts';

export function CodeText({ code, testId }: { code: string; testId: string }) {
  return (
    <p className="code-text mono" data-testid={testId} data-code={code}>
      {codeGroups(code).map((group, i) => (
        <span key={i} className="code-group">
          {group}
        </span>
      ))}
    </p>
  );
}
