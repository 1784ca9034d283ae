// Placeholder until the loader handler lands; the CDK app bundles this path.
export const handler = async (): Promise<never> => {
  throw new Error('loader handler: not implemented yet');
};
