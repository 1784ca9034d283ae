// Placeholder until the consumer handler lands; the CDK app bundles this path.
export const handler = async (): Promise<never> => {
  throw new Error('consumer handler: not implemented yet');
};
