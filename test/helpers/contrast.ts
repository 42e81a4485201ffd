import type { Page } from 'playwright-core';

/** WCAG's least contrast for text, and for what is not text (a focus ring, a control's mark, a chart's line). */
export const TEXT_CONTRAST = 4.5;
export const MARK_CONTRAST = 3;

/**
 * How many texts `contrastFaults` looked at, which marks (`input#len invalid mark`), and each
 * contrast below its bound, as `what: ratio < bound`.
 */
export interface ContrastCheck {
  texts: number;
  marks: string[];
  faults: string[];
}

/**
 * WCAG contrast ratios on `at` as it is shown now, in the colour scheme it is shown in. Every
 * visible text, a placeholder, a disabled control's and one a ::before draws included, against
 * what is painted behind it (the backgrounds of its ancestors and their opacity); and, at 3:1, the focused control's
 * outline and each control marked invalid against what is around them, and the loss chart's
 * lines against the chart. Left aside: the faint ↵ of a line break (a mark beside the text it
 * follows) and the chart's grid and axes (its labels carry the values).
 */
export function contrastFaults(at: Page): Promise<ContrastCheck> {
  return at.evaluate(([textBound, markBound]) => {
    type Rgba = [number, number, number, number];
    /** A computed colour: rgb(), rgba(), or color(srgb …) with channels from 0 to 1 (what color-mix gives). */
    const parse = (css: string): Rgba => {
      const [r, g, b, a = 1] = css.match(/[\d.]+/g)!.map(Number);
      const scale = css.startsWith('color(srgb') ? 255 : 1;
      return [r * scale, g * scale, b * scale, a];
    };
    const over = ([r, g, b, a]: Rgba, [R, G, B]: Rgba): Rgba => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a), 1];
    /** What `paint` (or nothing) looks like over `el`'s background, seen through the opacity of `el` and its ancestors. */
    const painted = (el: Element, paint?: string): Rgba => {
      const path: Element[] = [];
      for (let e: Element | null = el; e !== null; e = e.parentElement) path.unshift(e);
      let colour: Rgba = [255, 255, 255, 1];
      const groups: { under: Rgba; opacity: number }[] = [];
      for (const e of path) {
        const style = getComputedStyle(e);
        if (Number(style.opacity) < 1) groups.push({ under: colour, opacity: Number(style.opacity) });
        colour = over(parse(style.backgroundColor), colour);
      }
      if (paint !== undefined) colour = over(parse(paint), colour);
      for (const { under, opacity } of groups.reverse()) colour = over([colour[0], colour[1], colour[2], opacity], under);
      return colour;
    };
    const luminance = (rgba: Rgba) => {
      const [r, g, b] = rgba.slice(0, 3).map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (x: Rgba, y: Rgba) => {
      const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p);
      return (a + 0.05) / (b + 0.05);
    };
    const name = (e: Element, text = '') =>
      `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${[...e.classList].map((c) => `.${c}`).join('')}${text.trim() === '' ? '' : ` "${text.trim().slice(0, 24)}"`}`;
    const faults: string[] = [];
    const check = (what: string, x: Rgba, y: Rgba, bound: number) => {
      const r = ratio(x, y);
      if (r < bound) faults.push(`${what}: ${r.toFixed(2)} < ${bound}`);
    };
    const shown = (e: Element) => e.checkVisibility({ visibilityProperty: true }) && e.getClientRects().length > 0;

    let texts = 0;
    for (const e of document.querySelectorAll('body *')) {
      if (!shown(e) || e.tagName === 'OPTION' || e.matches('.tokens .newline')) continue;
      const own = [...e.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('');
      const control = e.matches('select, textarea, input:not([type="range"])');
      const style = getComputedStyle(e);
      const ink = e instanceof SVGElement ? style.fill : style.color;
      if (own.trim() !== '' || control) {
        texts += 1;
        check(name(e, control ? (e as HTMLInputElement).value : own), painted(e, ink), painted(e), textBound);
      }
      // a text the style sheet draws before it (an <EOS> token's tag), on its background
      const drawn = getComputedStyle(e, '::before');
      if (/^".+"$/.test(drawn.content)) {
        texts += 1;
        check(`${name(e, drawn.content.slice(1, -1))}::before`, painted(e, drawn.color), painted(e), textBound);
      }
      const placeholder = (e as HTMLInputElement).placeholder;
      if (control && placeholder && (e as HTMLInputElement).value === '') {
        texts += 1;
        check(`${name(e, placeholder)} placeholder`, painted(e, getComputedStyle(e, '::placeholder').color), painted(e), textBound);
      }
    }

    const marks: string[] = [];
    const mark = (what: string, x: Rgba, y: Rgba) => {
      marks.push(what);
      check(what, x, y, markBound);
    };
    /** What is around `e` (its parent's background), or `paint` drawn there. */
    const around = (e: Element, paint?: string) => painted(e.parentElement!, paint);
    const focused = document.querySelector(':focus-visible');
    if (focused !== null) {
      const style = getComputedStyle(focused);
      if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) faults.push(`${name(focused)}: no focus ring`);
      else mark(`${name(focused)} focus ring`, around(focused, style.outlineColor), around(focused));
    }
    for (const e of document.querySelectorAll('[aria-invalid="true"]')) {
      // the mark: a ring drawn as a box shadow, else the border
      const style = getComputedStyle(e);
      const ring = style.boxShadow === 'none' ? style.borderTopColor : /rgba?\([^)]*\)/.exec(style.boxShadow)![0];
      mark(`${name(e)} invalid mark`, around(e, ring), around(e));
    }
    for (const e of document.querySelectorAll('#loss-chart :is(.train, .val, .train-dot, .val-dot)')) {
      const style = getComputedStyle(e);
      mark(`chart ${name(e)}`, around(e, style.stroke === 'none' ? style.fill : style.stroke), around(e));
    }
    return { texts, marks, faults };
  }, [TEXT_CONTRAST, MARK_CONTRAST]);
}
