// The per-layer counters: each is an element tests can read by its test id, with the raw
// number in data-value. The transport's are defined so that they add up (the note under them
// says how; docs/transport.md defines each).
import type { TransportStats } from '../../../shared/api.ts';
import type { RelayCounters, RelayStatsView } from '../../../shared/contract.ts';
import { useLanguage, useT } from '../i18n.ts';
import { formatCount, formatPercent } from './format.ts';

const TRANSPORT_COUNTERS = [
  'segmentsSent',
  'firstTransmissions',
  'retransmissions',
  'segmentsAcked',
  'segmentsLost',
  'segmentsSuperseded',
  'segmentsHeld',
  'segmentsWithdrawn',
  'segmentsInFlight',
  'segmentsCarried',
  'spuriousRetransmissions',
  'lossRate',
  'bytesSent',
  'bytesAcked',
  'segmentsReceived',
  'duplicatesDropped',
  'bytesReceived',
] as const satisfies readonly (keyof TransportStats)[];

const CHANNEL_COUNTERS = [
  'framesIn',
  'framesOut',
  'lost',
  'flipped',
  'corrected',
  'uncorrectable',
  'duplicated',
  'reordered',
  'delayed',
  'bytesIn',
  'bytesOut',
] as const satisfies readonly (keyof RelayCounters)[];

/** Counters that show something went wrong on the way, highlighted when non-zero. */
const ALARMING = new Set<string>([
  'retransmissions',
  'segmentsLost',
  'lost',
  'uncorrectable',
  'lossRate',
]);

function Counter(props: {
  layer: string;
  name: string;
  label: string;
  value: number;
  shown: string;
}) {
  const alarm = ALARMING.has(props.name) && props.value > 0;
  return (
    <div
      className={alarm ? 'net-counter alarm' : 'net-counter'}
      data-testid={`counter-${props.layer}-${props.name}`}
      data-value={props.value}
    >
      <dt>{props.label}</dt>
      <dd>{props.shown}</dd>
    </div>
  );
}

export function TransportCounters(props: { stats: TransportStats }) {
  const t = useT();
  const language = useLanguage();
  return (
    <>
      <dl className="net-counters">
        {TRANSPORT_COUNTERS.map((name) => {
          const value = props.stats[name];
          return (
            <Counter
              key={name}
              layer="transport"
              name={name}
              label={t(`network.counter.transport.${name}`)}
              value={value}
              shown={
                name === 'lossRate' ? formatPercent(language, value) : formatCount(language, value)
              }
            />
          );
        })}
      </dl>
      <p className="net-hint" data-testid="counter-sum-note">
        {t('network.counter.sum')}
      </p>
    </>
  );
}

export function ChannelCounters(props: { relay: RelayStatsView | null; callError: string | null }) {
  const t = useT();
  const language = useLanguage();
  const { relay, callError } = props;
  if (callError !== null || (relay !== null && !relay.reachable)) {
    const error = callError ?? (relay !== null && !relay.reachable ? relay.error : '');
    return (
      <p className="net-state net-error" role="status" data-testid="relay-unreachable">
        {t('network.relay.unreachable', { error })}
      </p>
    );
  }
  if (relay === null) {
    return (
      <p className="net-state" role="status">
        {t('network.relay.waiting')}
      </p>
    );
  }
  return (
    <dl className="net-counters">
      {CHANNEL_COUNTERS.map((name) => (
        <Counter
          key={name}
          layer="channel"
          name={name}
          label={t(`network.counter.channel.${name}`)}
          value={relay.counters[name]}
          shown={formatCount(language, relay.counters[name])}
        />
      ))}
    </dl>
  );
}
