// The network view: beside the open chat, what its transport and the relay's channel are doing
// right now. It polls the host (the transport twice a second, the relay every second) only
// while it is shown. The charts show a window the user chooses; the counters can be reset.
import { useEffect, useState } from 'react';
import type { RelayStatsView, SegmentLogEntry, StrataApi } from '../../../shared/contract.ts';
import { CloseIcon } from '../components/Icons.tsx';
import { useT } from '../i18n.ts';
import { ChannelSettings } from './ChannelSettings.tsx';
import type { ChartPoint } from './chart.ts';
import { ChannelCounters, TransportCounters } from './Counters.tsx';
import { LineChart } from './LineChart.tsx';
import { startPoller } from './poller.ts';
import { deriveRates, trimSamples, type NetworkSample, type RateCounter } from './rates.ts';
import { countersReset, mergeLog, nextSince } from './segment-log.ts';
import { SegmentLog } from './SegmentLog.tsx';
import './network.css';

const TRANSPORT_POLL_MS = 500;
const RELAY_POLL_MS = 1000;
/** The charts' time windows to choose from, in seconds; samples are kept for the longest. */
const CHART_WINDOWS = [30, 120, 600] as const;
type ChartWindow = (typeof CHART_WINDOWS)[number];
const DEFAULT_WINDOW: ChartWindow = 120;
const KEPT_MS = Math.max(...CHART_WINDOWS) * 1000;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

interface TransportState {
  samples: NetworkSample[];
  log: SegmentLogEntry[];
  error: string | null;
}
const EMPTY: TransportState = { samples: [], log: [], error: null };

/**
 * Polls one conversation's transport; state starts again when the peer changes or `generation`
 * does (the counters were reset).
 */
function useTransport(api: StrataApi, peer: string | null, generation: number): TransportState {
  const [state, setState] = useState<TransportState & { peer: string | null }>({
    ...EMPTY,
    peer,
  });
  useEffect(() => {
    setState({ ...EMPTY, peer });
    if (peer === null) return;
    let since: number | undefined;
    let previous: NetworkSample | undefined;
    let active = true;
    const stop = startPoller(async () => {
      try {
        const snapshot = await api.call(
          'network',
          since === undefined ? { peer } : { peer, since },
        );
        if (!active) return;
        const sample: NetworkSample = { at: snapshot.at, stats: snapshot.stats };
        // A counter going down means the host restarted: its log numbering restarted too.
        const reset = previous !== undefined && countersReset(previous.stats, sample.stats);
        previous = sample;
        since = reset ? undefined : nextSince(since, snapshot.log);
        setState((s) => ({
          peer,
          samples: trimSamples([...(reset ? [] : s.samples), sample], KEPT_MS),
          log: reset ? [] : mergeLog(s.log, snapshot.log),
          error: null,
        }));
      } catch (e) {
        if (active) setState((s) => ({ ...s, error: errorText(e) }));
      }
    }, TRANSPORT_POLL_MS);
    return () => {
      active = false;
      stop();
    };
  }, [api, peer, generation]);
  // Until the effect has reset it, state may still belong to the previous peer.
  return state.peer === peer ? state : EMPTY;
}

function useRelayStats(api: StrataApi): { relay: RelayStatsView | null; error: string | null } {
  const [state, setState] = useState<{ relay: RelayStatsView | null; error: string | null }>({
    relay: null,
    error: null,
  });
  useEffect(() => {
    let active = true;
    const stop = startPoller(async () => {
      try {
        const relay = await api.call('relayStats', {});
        if (active) setState({ relay, error: null });
      } catch (e) {
        if (active) setState((s) => ({ ...s, error: errorText(e) }));
      }
    }, RELAY_POLL_MS);
    return () => {
      active = false;
      stop();
    };
  }, [api]);
  return state;
}

export function NetworkView(props: { api: StrataApi; peer: string | null; onClose: () => void }) {
  const t = useT();
  const [generation, setGeneration] = useState(0);
  const [windowSeconds, setWindowSeconds] = useState<ChartWindow>(DEFAULT_WINDOW);
  const [resetError, setResetError] = useState<string | null>(null);
  const transport = useTransport(props.api, props.peer, generation);
  const relay = useRelayStats(props.api);
  const latest = transport.samples.at(-1);

  const reset = async (peer: string | undefined) => {
    try {
      await props.api.call('resetNetwork', peer === undefined ? {} : { peer });
      setResetError(null);
      setGeneration((g) => g + 1);
    } catch (e) {
      setResetError(errorText(e));
    }
  };

  return (
    <section
      className="network-view"
      data-testid="network-view"
      aria-labelledby="network-view-title"
    >
      <header className="net-header">
        <div>
          <h2 id="network-view-title">{t('network.title')}</h2>
          {props.peer !== null && (
            <p className="net-subtitle">{t('network.peer', { peer: props.peer })}</p>
          )}
          <p className="net-sealed" data-testid="network-sealed">
            <span aria-hidden="true">🔒 </span>
            {t('network.sealed')}
          </p>
        </div>
        <button
          type="button"
          className="icon-btn net-close"
          data-testid="network-close"
          aria-label={t('network.close')}
          title={t('network.close')}
          onClick={props.onClose}
        >
          <CloseIcon />
        </button>
      </header>

      <section className="net-section" aria-labelledby="net-transport-title">
        <h3 id="net-transport-title">{t('network.layer.transport')}</h3>
        {props.peer === null ? (
          <p className="net-state" data-testid="network-no-peer">
            {t('network.noPeer')}
          </p>
        ) : (
          <>
            {transport.error !== null && (
              <p className="net-state net-error" role="status" data-testid="network-error">
                {t('network.transportError', { error: transport.error })}
              </p>
            )}
            <div className="net-toolbar">
              <button
                type="button"
                className="btn btn-small"
                data-testid="network-reset"
                title={t('network.reset.peerHint')}
                onClick={() => void reset(props.peer ?? undefined)}
              >
                {t('network.reset.peer')}
              </button>
              <button
                type="button"
                className="btn btn-small"
                data-testid="network-reset-all"
                onClick={() => void reset(undefined)}
              >
                {t('network.reset.all')}
              </button>
              <label className="net-window">
                {t('network.window.label')}
                <select
                  className="select"
                  data-testid="network-window"
                  value={windowSeconds}
                  onChange={(e) => setWindowSeconds(Number(e.target.value) as ChartWindow)}
                >
                  {CHART_WINDOWS.map((w) => (
                    <option key={w} value={w}>
                      {t(`network.window.${w}`)}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            {resetError !== null && (
              <p className="net-state net-error" role="alert" data-testid="network-reset-error">
                {t('network.reset.failed', { error: resetError })}
              </p>
            )}
            {latest === undefined ? (
              transport.error === null && <p className="net-state">{t('network.waiting')}</p>
            ) : (
              <>
                <TransportCounters stats={latest.stats} />
                <Charts samples={transport.samples} windowSeconds={windowSeconds} />
              </>
            )}
          </>
        )}
      </section>

      <section className="net-section" aria-labelledby="net-channel-title">
        <h3 id="net-channel-title">{t('network.layer.channel')}</h3>
        <ChannelCounters relay={relay.relay} callError={relay.error} />
      </section>

      {props.peer !== null && (
        <section className="net-section" aria-labelledby="net-log-title">
          <h3 id="net-log-title">{t('network.log.title')}</h3>
          <SegmentLog entries={transport.log} />
        </section>
      )}

      <ChannelSettings api={props.api} />
    </section>
  );
}

function Charts(props: { samples: readonly NetworkSample[]; windowSeconds: ChartWindow }) {
  const t = useT();
  const samples = trimSamples(props.samples, props.windowSeconds * 1000);
  const rates = deriveRates(samples);
  const to = samples.at(-1)?.at ?? 0;
  const from = to - props.windowSeconds * 1000;
  const rate = (key: RateCounter): ChartPoint[] => rates.map((r) => ({ at: r.at, value: r[key] }));
  const gauge = (value: (s: NetworkSample) => number | null): ChartPoint[] =>
    samples.map((s) => ({ at: s.at, value: value(s) }));
  const common = { from, to, windowSeconds: props.windowSeconds };
  return (
    <div
      className="net-charts"
      aria-label={t('network.charts', { window: t(`network.window.${props.windowSeconds}`) })}
      role="group"
      data-testid="network-charts"
      data-window={props.windowSeconds}
    >
      <LineChart
        {...common}
        testId="chart-throughput"
        title={t('network.chart.bytes')}
        series={[
          { id: 'bytesSent', label: t('network.series.bytesSent'), points: rate('bytesSent') },
          {
            id: 'bytesReceived',
            label: t('network.series.bytesReceived'),
            points: rate('bytesReceived'),
          },
        ]}
      />
      <LineChart
        {...common}
        testId="chart-segments"
        title={t('network.chart.segments')}
        series={[
          {
            id: 'segmentsSent',
            label: t('network.series.segmentsSent'),
            points: rate('segmentsSent'),
          },
          {
            id: 'segmentsAcked',
            label: t('network.series.segmentsAcked'),
            points: rate('segmentsAcked'),
          },
          {
            id: 'segmentsReceived',
            label: t('network.series.segmentsReceived'),
            points: rate('segmentsReceived'),
          },
        ]}
      />
      <LineChart
        {...common}
        testId="chart-rtt"
        title={t('network.chart.rtt')}
        series={[
          // 0 means no sender state or no round trip measured yet, not a zero-length one.
          {
            id: 'rtt',
            label: t('network.series.rtt'),
            points: gauge((s) => s.stats.rttMs || null),
          },
          {
            id: 'minRtt',
            label: t('network.series.minRtt'),
            points: gauge((s) => s.stats.minRttMs || null),
          },
        ]}
      />
      <LineChart
        {...common}
        testId="chart-window"
        title={t('network.chart.window')}
        series={[
          {
            id: 'window',
            label: t('network.series.window'),
            // A sender's window is never empty: 0 means there is no sender state yet.
            points: gauge((s) => s.stats.windowBytes || null),
          },
          {
            id: 'inFlight',
            label: t('network.series.inFlight'),
            points: gauge((s) => s.stats.bytesInFlight),
          },
        ]}
      />
      <LineChart
        {...common}
        testId="chart-retransmissions"
        title={t('network.chart.retransmissions')}
        series={[
          {
            id: 'retransmissions',
            label: t('network.series.retransmissions'),
            points: rate('retransmissions'),
          },
        ]}
      />
    </div>
  );
}
