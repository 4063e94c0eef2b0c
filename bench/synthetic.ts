/** The benchmarks' synthetic directory: one supervising office and N departments tagged `all`. */
export function syntheticDirectory(units: number) {
  const contact = (who: string) => ({ name: who, email: `${who}@bench.example.org` });
  return {
    jurisdiction: '基准市',
    leadership: [contact('leader')],
    units: [
      {
        id: 'office',
        name: '依法治市办',
        kind: 'office',
        contacts: { head: contact('office-head'), liaison: contact('office-liaison') },
      },
      ...Array.from({ length: units }, (_, i) => ({
        id: `unit-${i}`,
        name: `单位${i}`,
        kind: 'department',
        tags: ['all'],
        supervisor: 'office',
        contacts: { head: contact(`head-${i}`), liaison: contact(`liaison-${i}`) },
      })),
    ],
  };
}
