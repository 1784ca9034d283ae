/**
 * The summary every workflow run publishes (runs/<runId>/summary.json, next to report.html).
 * Written by the workflow's publish step; read by `mds status`, the static run report and the dashboard.
 */
export interface RunWindow {
  /** Inclusive start, ISO-8601 UTC, on an hour boundary. */
  readonly start: string;
  /** Exclusive end, ISO-8601 UTC, on an hour boundary. */
  readonly end: string;
}

export interface ReconcileCheck {
  readonly name: string;
  readonly expected: number;
  readonly actual: number;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface RunSummary {
  readonly runId: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly window: RunWindow;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Seconds spent in each workflow step, by state name. */
  readonly stepSeconds: Readonly<Record<string, number>>;
  readonly counts: {
    /** Records the object store holds for the window: Bronze lines and quarantined records. */
    readonly landed: number;
    readonly quarantined: number;
    /** Bronze rows in the warehouse whose event time is in the window. */
    readonly loaded: number;
    /** Silver rows (distinct events) in the window. */
    readonly modelled: number;
  };
  readonly loader?: {
    readonly objectsSeen: number;
    readonly objectsLoaded: number;
    readonly objectsSkipped: number;
    readonly rowsLoaded: number;
    readonly errors: readonly { readonly key: string; readonly line?: number; readonly message: string }[];
  };
  readonly dbt?: {
    readonly status: 'success' | 'error';
    readonly results: readonly {
      readonly unique_id: string;
      readonly status: string;
      readonly execution_time: number;
      readonly message?: string | null;
    }[];
  };
  readonly reconciliation?: { readonly ok: boolean; readonly checks: readonly ReconcileCheck[] };
  /** A glimpse of Gold for the report. */
  readonly gold?: {
    readonly playsPerHour: readonly { readonly hour_start: string; readonly plays: number }[];
    /** The run's days' most streamed songs and artists (track_days, artist_days; as the dashboard ranks). */
    readonly topTracks: readonly {
      readonly song_name: string;
      readonly artist_name: string;
      readonly streams: number;
    }[];
    readonly topArtists: readonly { readonly artist_name: string; readonly streams: number }[];
  };
  /** Set when the run failed: the failing state, the error name and its cause. */
  readonly failure?: { readonly state: string; readonly error: string; readonly cause: string };
}
