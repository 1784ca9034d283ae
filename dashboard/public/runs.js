// The runs page: the workflow's executions as the Step Functions console lists them, from /api/runs.
// A browser file: no imports beyond other browser files (docs/architecture.md).

const $ = (id) => document.getElementById(id);

function text(tag, value, className) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (className) el.className = className;
  return el;
}

const minute = (iso) => (iso ? iso.slice(0, 16).replace('T', ' ') : '–');
const secs = (s) =>
  s === undefined || s === null ? '–' : s < 60 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;

function row(run) {
  const tr = document.createElement('tr');
  tr.dataset.name = run.name;
  tr.dataset.status = run.status;
  tr.append(
    text(
      'td',
      run.status + (run.redriveCount ? ` (redriven ${run.redriveCount}×)` : ''),
      `status status-${run.status}`,
    ),
  );
  tr.append(
    text('td', run.window ? `${minute(run.window.start)} – ${minute(run.window.end).slice(11)}` : '–'),
  );
  const started = text('td', minute(run.startDate));
  started.title = run.name;
  tr.append(started);
  tr.append(text('td', secs(run.seconds)));
  const steps = document.createElement('td');
  const list = document.createElement('ul');
  list.className = 'steps';
  for (const s of run.steps)
    list.append(text('li', `${s.name} ${secs(s.seconds)}`, s.failed ? 'failed' : ''));
  steps.append(list);
  tr.append(steps);
  tr.append(text('td', run.error ? `${run.error}: ${run.cause ?? ''}` : '', 'cause'));
  const report = document.createElement('td');
  if (run.reportUrl) {
    const a = text('a', 'report');
    a.href = run.reportUrl;
    report.append(a);
  }
  tr.append(report);
  return tr;
}

async function load() {
  const res = await fetch('/api/runs?limit=50');
  const body = await res.json();
  if (!res.ok) {
    $('message').textContent = body.error?.message ?? `The runs could not be read (HTTP ${res.status})`;
    $('message').hidden = false;
    $('span').textContent = '';
    document.body.dataset.state = 'error';
    return;
  }
  const tbody = $('runs').querySelector('tbody');
  tbody.replaceChildren(...body.runs.map(row));
  $('runs').hidden = body.runs.length === 0;
  $('none').hidden = body.runs.length > 0;
  const failed = body.runs.filter((r) => r.status !== 'SUCCEEDED' && r.status !== 'RUNNING').length;
  $('span').textContent = `${body.runs.length} runs, ${failed} not succeeded`;
  document.body.dataset.state = 'ready';
}

load().catch((err) => {
  $('message').textContent = `The runs could not be read: ${err.message}`;
  $('message').hidden = false;
  document.body.dataset.state = 'error';
});
