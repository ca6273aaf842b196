// One live line chart: a few series over the same time window, drawn as plain SVG.
import { useId } from 'react';
import { useLanguage, useT } from '../i18n.ts';
import { linePath, scales, yMaxOf, yTicks, type ChartBox, type ChartPoint } from './chart.ts';
import { formatAxis, formatValue } from './format.ts';

export interface ChartSeries {
  /** Selects the colour in network.css (series-0, series-1, …) and names the path for tests. */
  id: string;
  label: string;
  points: readonly ChartPoint[];
}

const BOX: ChartBox = { width: 320, height: 110, left: 38, right: 6, top: 8, bottom: 18 };

export function LineChart(props: {
  testId: string;
  title: string;
  series: readonly ChartSeries[];
  from: number;
  to: number;
  windowSeconds: number;
}) {
  const t = useT();
  const language = useLanguage();
  const titleId = useId();
  const descId = useId();
  const yMax = yMaxOf(props.series.map((s) => s.points));
  const { x, y } = scales(BOX, props.from, props.to, yMax);
  const latest = props.series.map((s) => {
    const value = s.points.at(-1)?.value ?? null;
    return { ...s, value };
  });
  const values = latest
    .map(
      (s) =>
        `${s.label} ${s.value === null ? t('network.chart.noData') : formatValue(language, s.value)}`,
    )
    .join(', ');
  const bottom = BOX.height - BOX.bottom;
  return (
    <figure className="net-chart" data-testid={props.testId}>
      <figcaption id={titleId} className="net-chart-title">
        {props.title}
      </figcaption>
      <svg
        className="net-chart-svg"
        viewBox={`0 0 ${BOX.width} ${BOX.height}`}
        role="img"
        aria-labelledby={titleId}
        aria-describedby={descId}
      >
        <desc id={descId}>{t('network.chart.summary', { title: props.title, values })}</desc>
        {yTicks(yMax).map((tick) => (
          <g key={tick}>
            <line
              className="net-chart-grid"
              x1={BOX.left}
              x2={BOX.width - BOX.right}
              y1={y(tick)}
              y2={y(tick)}
            />
            <text
              className="net-chart-axis"
              x={BOX.left - 4}
              y={y(tick)}
              textAnchor="end"
              dy="0.35em"
            >
              {formatAxis(language, tick)}
            </text>
          </g>
        ))}
        <text className="net-chart-axis" x={BOX.left} y={bottom + 13} textAnchor="start">
          {t('network.chart.ago', { seconds: props.windowSeconds })}
        </text>
        <text className="net-chart-axis" x={BOX.width - BOX.right} y={bottom + 13} textAnchor="end">
          {t('network.chart.now')}
        </text>
        {props.series.map((s, i) => (
          <path
            key={s.id}
            className={`net-chart-line series-${i}`}
            data-series={s.id}
            d={linePath(s.points, x, y)}
          />
        ))}
      </svg>
      <ul className="net-chart-legend">
        {latest.map((s, i) => (
          <li key={s.id}>
            <span className={`net-swatch series-${i}`} aria-hidden="true" />
            {s.label}:{' '}
            <span className="net-chart-value">
              {s.value === null ? '—' : formatValue(language, s.value)}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
