/**
 * An error boundary around one view: a view that throws while rendering (bad data, a bug)
 * shows what went wrong in its own place, with a way to try again, and the rest of the app
 * (header, other tabs, the session) keeps working.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { ErrorBox } from './ErrorBox';

interface Props {
  /** The view's name, for the message ("Allocations"). */
  name: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
}

export class ViewBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`the ${this.props.name} view failed`, error, info.componentStack);
  }

  override render(): ReactNode {
    const e = this.state.error;
    if (!e) return this.props.children;
    return (
      <section className="view" data-testid="view-error">
        <ErrorBox
          testId="view-error-box"
          error={{
            kind: 'internal',
            code: null,
            codeName: null,
            message: `The ${this.props.name} view could not be shown: ${e.message}`,
            hint: 'The other views still work. Try again; if it keeps failing, close the session or reload the page.',
          }}
        />
        <button onClick={() => this.setState({ error: null })} data-testid="view-error-retry">
          Try again
        </button>
      </section>
    );
  }
}
