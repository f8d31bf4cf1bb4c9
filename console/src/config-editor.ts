import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, enc, type ApiError, type TopicDescription } from './api.ts';
import { ErrorMessage, asApiError } from './ui.ts';

/**
 * Changes one topic config (PATCH /v1/topics/:topic/config, which needs `admin`): the broker
 * validates the value and the console shows its sentence when it refuses; "reset" removes the
 * topic's override so the broker default applies again.
 */
export function ConfigEditor({ topic, configs, onChanged }: { topic: string; configs: TopicDescription['configs']; onChanged: () => void }) {
  const [name, setName] = useState(configs[0]?.name ?? '');
  const [value, setValue] = useState('');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  const change = async (newValue: string | null) => {
    setDone(undefined);
    if (newValue !== null && newValue.trim() === '') return setInvalid(`Give a value for ${name}, or reset it to the default.`);
    setInvalid(undefined);
    try {
      await api(`/v1/topics/${enc(topic)}/config`, { method: 'PATCH', body: { [name]: newValue === null ? null : newValue.trim() } });
      setError(undefined);
      setDone(newValue === null ? `${name} is back to its default.` : `${name} is now ${newValue.trim()}.`);
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    }
  };

  return html`
    <form class="row" aria-label="Change a config" onSubmit=${(e: Event) => (e.preventDefault(), void change(value))}>
      <label>Config
        <select name="config" value=${name} onChange=${(e: Event) => setName((e.target as HTMLSelectElement).value)}>
          ${configs.map((c) => html`<option value=${c.name}>${c.name}</option>`)}
        </select>
      </label>
      <label>New value <input name="config-value" value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Set config</button>
      <button type="button" onClick=${() => void change(null)}>Reset to default</button>
    </form>
    ${invalid !== undefined && html`<p class="error" role="alert">${invalid}</p>`}
    <${ErrorMessage} error=${error} />
    ${done !== undefined && html`<p class="ok" role="status">${done}</p>`}
  `;
}
