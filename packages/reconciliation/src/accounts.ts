// Account ids of a PSP's clearing and suspense accounts, one per currency, from templates with
// `{profile}` and `{currency}` placeholders.

export const clearingAccountTemplateDefault = '{profile}-clearing-{currency}';
export const suspenseAccountTemplateDefault = '{profile}-suspense-{currency}';

export function accountIdFor(template: string, profile: string, currency: string): string {
  return template.replaceAll('{profile}', profile).replaceAll('{currency}', currency);
}
