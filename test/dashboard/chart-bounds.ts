// Everything inside page.evaluate is a single arrow function with no named inner functions: the test runner's
// transform would wrap those in a helper that does not exist in the page.

/**
 * Finds chart text that the canvas cuts off: walks what ECharts actually drew (the zrender display list of
 * every chart in window.__charts) and returns each visible text whose box reaches past its chart's canvas.
 * A label half outside the canvas is half invisible to the reader, which is the bug this guards against.
 */
import type { Page } from 'playwright-core';

export interface ClippedText {
  readonly chart: string;
  readonly text: string;
  /** The text's box in the chart's own pixels, and the chart's size. */
  readonly box: { x: number; y: number; width: number; height: number };
  readonly chartSize: { width: number; height: number };
}

export interface DrawnText {
  readonly chart: string;
  readonly text: string;
}

/** Every visible text of every chart on the page, and those of them that stick out of their canvas. */
export async function drawnTexts(page: Page): Promise<{ all: DrawnText[]; clipped: ClippedText[] }> {
  return page.evaluate(() => {
    interface Rect {
      x: number;
      y: number;
      width: number;
      height: number;
      clone(): Rect;
      applyTransform(m: number[] | null | undefined): void;
    }
    interface ZrElement {
      type: string;
      ignore?: boolean;
      invisible?: boolean;
      parent?: ZrElement;
      style?: { text?: string; opacity?: number };
      getBoundingRect(): Rect;
      getComputedTransform(): number[] | null;
    }
    interface Chart {
      getWidth(): number;
      getHeight(): number;
      getZr(): { storage: { getDisplayList(update: boolean): ZrElement[] } };
    }
    const charts = (window as unknown as { __charts: Record<string, Chart> }).__charts;
    const all: DrawnText[] = [];
    const clipped: ClippedText[] = [];
    // Sub-pixel anti-aliasing at the very edge is not a cut-off label.
    const slack = 0.5;
    for (const [name, chart] of Object.entries(charts)) {
      const width = chart.getWidth();
      const height = chart.getHeight();
      for (const el of chart.getZr().storage.getDisplayList(true)) {
        const text = el.style?.text;
        if (el.type !== 'tspan' || !text) continue;
        // Labels dropped by hideOverlap or truncation are marked ignored on the element or one of its parents.
        let hidden = false;
        for (let e: ZrElement | undefined = el; e && !hidden; e = e.parent) {
          hidden = Boolean(e.ignore || e.invisible || e.style?.opacity === 0);
        }
        if (hidden) continue;
        const box = el.getBoundingRect().clone();
        box.applyTransform(el.getComputedTransform());
        all.push({ chart: name, text });
        if (
          box.x < -slack ||
          box.y < -slack ||
          box.x + box.width > width + slack ||
          box.y + box.height > height + slack
        ) {
          clipped.push({
            chart: name,
            text,
            box: { x: box.x, y: box.y, width: box.width, height: box.height },
            chartSize: { width, height },
          });
        }
      }
    }
    return { all, clipped };
  });
}
