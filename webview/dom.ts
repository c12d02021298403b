// A tiny DOM builder: text only ever goes in as text nodes (no innerHTML anywhere), styles only through classes.
export type Child = Node | string | number | false | null | undefined | readonly Child[];
type Handler = (event: Event) => void;
export type Attrs = Readonly<Record<string, string | number | boolean | null | undefined | Handler>>;

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child as readonly Child[]) append(parent, c);
    return;
  }
  parent.appendChild(typeof child === 'object' ? (child as Node) : document.createTextNode(String(child)));
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs | null, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs?: Attrs | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (name === 'style') throw new Error('h(): inline styles are blocked by the CSP; use a class');
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) append(el, child);
  return el;
}

/** A codicon from the page's codicon.css (decorative: hidden from screen readers). */
export function codicon(name: string, extraClass = ''): HTMLElement {
  return h('span', { class: `codicon codicon-${name}${extraClass ? ` ${extraClass}` : ''}`, 'aria-hidden': 'true' });
}

/** A vscode-elements button; `onPress` runs on click and on Enter/Space (the component turns keys into clicks). */
export function button(
  label: string,
  options: {
    icon?: string;
    secondary?: boolean;
    disabled?: boolean;
    title?: string;
    id?: string;
    describedBy?: string;
    onPress: () => void;
  },
): HTMLElement {
  const el = h(
    'vscode-button',
    {
      id: options.id,
      icon: options.icon,
      secondary: options.secondary === true,
      disabled: options.disabled === true,
      'aria-disabled': options.disabled === true ? 'true' : undefined,
      title: options.title,
      'aria-describedby': options.describedBy,
    },
    label,
  );
  el.addEventListener('click', () => {
    if (!el.hasAttribute('disabled')) options.onPress();
  });
  return el;
}
