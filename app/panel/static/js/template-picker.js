// The composer once the 24-hour window has closed: an approved template, its
// {{n}} parameters filled in by the agent, sent as a template reply.

import * as api from './api.js';
import { element } from './dom.js';
import { t } from './i18n.js';

const PLACEHOLDER = /\{\{(\d+)\}\}/g;

// How many {{n}} parameters a template's text takes.
export function parameterCount(text) {
  let highest = 0;
  for (const match of String(text || '').matchAll(PLACEHOLDER)) highest = Math.max(highest, Number(match[1]));
  return highest;
}

export class TemplatePicker {
  constructor({ form, select, params, preview, onSend }) {
    this.form = form;
    this.select = select;
    this.params = params;
    this.preview = preview;
    this.onSend = onSend; // (template object, preview text) => void
    this.templates = null;
    select.addEventListener('change', () => this.drawParameters());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  async load() {
    if (this.templates) return;
    try {
      this.templates = await api.templates();
    } catch (error) {
      this.templates = [];
    }
    this.drawOptions();
  }

  chosen() {
    return this.templates?.[Number(this.select.value)] ?? null;
  }

  drawOptions() {
    const options = (this.templates || []).map((template, index) => {
      const option = element('option', '', `${template.name} (${template.language})`);
      option.value = String(index);
      return option;
    });
    if (!options.length) options.push(element('option', '', t('template.none')));
    this.select.replaceChildren(...options);
    this.select.disabled = !this.templates?.length;
    this.form.querySelector('button').disabled = !this.templates?.length;
    this.drawParameters();
  }

  drawParameters() {
    const template = this.chosen();
    const inputs = [];
    for (let n = 1; n <= parameterCount(template?.text); n += 1) {
      const input = element('input', 'template-param');
      input.required = true;
      input.placeholder = t('template.parameter', { n });
      input.addEventListener('input', () => this.drawPreview());
      inputs.push(input);
    }
    this.params.replaceChildren(...inputs);
    this.drawPreview();
  }

  values() {
    return [...this.params.querySelectorAll('input')].map((input) => input.value.trim());
  }

  drawPreview() {
    const values = this.values();
    const text = this.chosen()?.text || '';
    this.preview.textContent = text.replace(PLACEHOLDER, (match, n) => values[n - 1] || match);
  }

  submit() {
    const template = this.chosen();
    if (!template || this.values().some((value) => !value)) return;
    const body = { name: template.name, language: template.language };
    const values = this.values();
    if (values.length) {
      body.components = [{ type: 'body', parameters: values.map((text) => ({ type: 'text', text })) }];
    }
    this.onSend(body, this.preview.textContent || `[${template.name} (${template.language})]`);
    this.params.querySelectorAll('input').forEach((input) => {
      input.value = '';
    });
    this.drawPreview();
  }
}
