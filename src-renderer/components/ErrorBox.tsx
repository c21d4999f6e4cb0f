import type { ErrorReply } from '../../src-shared/contract/model';

/** An ErrorReply as the user should see it: what happened, the Win32 code, what to do. */
export function ErrorBox({
  error,
  testId = 'error-box',
  onDismiss,
}: {
  error: ErrorReply;
  testId?: string;
  onDismiss?: () => void;
}) {
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      <div className="error-main">
        <strong className="error-message" data-testid={`${testId}-message`}>
          {error.message}
        </strong>
        {error.codeName !== null && (
          <span className="error-code" title={`Win32 error ${error.code ?? ''}`}>
            {error.codeName}
            {error.code !== null ? ` (${error.code})` : ''}
          </span>
        )}
        <span className="error-kind">{error.kind}</span>
      </div>
      {error.hint && (
        <div className="error-hint" data-testid={`${testId}-hint`}>
          {error.hint}
        </div>
      )}
      {onDismiss && (
        <button
          className="error-dismiss"
          onClick={onDismiss}
          data-testid={`${testId}-dismiss`}
          aria-label="Dismiss"
        >
          ×
        </button>
      )}
    </div>
  );
}

export function Empty({
  title,
  children,
  testId,
}: {
  title: string;
  children?: React.ReactNode;
  testId?: string;
}) {
  return (
    <div className="empty" data-testid={testId}>
      <div className="empty-title">{title}</div>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}
