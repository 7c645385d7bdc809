/** The settings of a workspace besides its label, as the create and update bodies accept them. */
export const WORKSPACE_SETTINGS = {
  logoUrl: { type: ['string', 'null'], maxLength: 2048, description: 'An https URL, or null' },
  dataSubjectArchivedRetentionDays: { type: ['integer', 'null'], minimum: 0, maximum: 36_500 },
} as const;
