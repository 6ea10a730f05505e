/**
 * A virtualised list: only the rows in view (and a few around) exist in the DOM.
 *
 * Why: an incident of 300 SOS re-rendered on every stream event is 300 rows rebuilt each time;
 * the console must stay responsive while the SOS and their messages pour in. Rows have one
 * fixed height, so the row under any scroll position is a division, and the spacer's height
 * gives the scroll bar its true length.
 */

export interface VirtualList<T> {
  setItems(items: T[]): void;
  render(): void;
}

export function virtualList<T>(options: {
  scroller: HTMLElement;
  spacer: HTMLElement;
  list: HTMLElement;
  rowHeight: number;
  renderRow: (item: T) => HTMLElement;
}): VirtualList<T> {
  const { scroller, spacer, list, rowHeight, renderRow } = options;
  let items: T[] = [];
  let frame = 0;
  const OVERSCAN = 6;

  const render = (): void => {
    frame = 0;
    spacer.style.height = `${items.length * rowHeight}px`;
    const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeight) - OVERSCAN);
    const visible = Math.ceil(scroller.clientHeight / rowHeight) + 2 * OVERSCAN;
    const last = Math.min(items.length, first + visible);
    const rows: HTMLElement[] = [];
    for (let i = first; i < last; i += 1) {
      const row = renderRow(items[i] as T);
      row.style.top = `${i * rowHeight}px`;
      row.style.height = `${rowHeight}px`;
      rows.push(row);
    }
    list.replaceChildren(...rows);
    list.dataset.total = String(items.length);
  };

  scroller.addEventListener("scroll", () => {
    if (frame === 0) frame = window.requestAnimationFrame(render);
  }, { passive: true });

  return {
    setItems(next: T[]): void {
      items = next;
      render();
    },
    render,
  };
}
