// Svelte compiler options for the agent app: runes everywhere.
export default {
  compilerOptions: { runes: true },
};
