// Placeholder until the producer handler lands; the CDK app bundles this path.
export const handler = async (): Promise<never> => {
  throw new Error('producer handler: not implemented yet');
};
