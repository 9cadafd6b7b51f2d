/** The two panes of the home screen: tabs on a phone, side by side on a wider screen. */
export type Pane = 'chat' | 'inbox';
export const DEFAULT_PANE: Pane = 'chat';
