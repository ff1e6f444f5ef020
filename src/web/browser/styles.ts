/**
 * xterm.js writes the styles it computes (theme, cell sizes) into <style>
 * elements it creates. The page's CSP (`style-src 'self'`, no 'unsafe-inline')
 * refuses those, so each such element's text goes into a constructed
 * stylesheet instead: CSSOM, which CSP does not govern, and no inline style is
 * ever allowed. Kept small on purpose: xterm.js only sets textContent and
 * removes the element.
 */

/**
 * Makes `doc.createElement('style')` return a stand-in whose text is applied through
 * adoptedStyleSheets: an inert <template>, since even an empty <style> in the page is
 * reported as a CSP violation.
 */
export function adoptStyleElements(doc: Document): void {
  const create = doc.createElement.bind(doc);
  doc.createElement = ((tag: string, options?: ElementCreationOptions) => {
    if (tag.toLowerCase() !== 'style') return create(tag, options);
    const el = create('template');
    const sheet = new CSSStyleSheet();
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
    let text = '';
    Object.defineProperty(el, 'textContent', {
      get: () => text,
      set: (v: string | null) => {
        text = v ?? '';
        sheet.replaceSync(text);
      },
    });
    const remove = el.remove.bind(el);
    el.remove = () => {
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
      remove();
    };
    return el;
  }) as typeof doc.createElement;
}
