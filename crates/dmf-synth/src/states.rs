//! The 50 states, DC and Puerto Rico: postal codes, population shares, and the SSN areas each
//! was given before numbers were randomized in 2011.

/// A place of birth and of SSN issue.
#[derive(Debug)]
pub(crate) struct State {
    pub code: &'static str,
    /// Population in thousands (2020 census, rounded): the weight of the state as birthplace.
    pub population: u32,
    /// SSN areas, inclusive ranges, in the order they were put into use: later ranges were
    /// opened when the first ran out, so a state fills them in this order.
    pub areas: &'static [(u16, u16)],
}

const fn st(code: &'static str, population: u32, areas: &'static [(u16, u16)]) -> State {
    State {
        code,
        population,
        areas,
    }
}

pub(crate) const STATES: [State; 52] = [
    st("NH", 1_377, &[(1, 3)]),
    st("ME", 1_362, &[(4, 7)]),
    st("VT", 643, &[(8, 9)]),
    st("MA", 7_030, &[(10, 34)]),
    st("RI", 1_097, &[(35, 39)]),
    st("CT", 3_606, &[(40, 49)]),
    st("NY", 20_201, &[(50, 134)]),
    st("NJ", 9_289, &[(135, 158)]),
    st("PA", 13_003, &[(159, 211)]),
    st("MD", 6_177, &[(212, 220)]),
    st("DE", 990, &[(221, 222)]),
    st("VA", 8_631, &[(223, 231), (691, 699)]),
    st("WV", 1_794, &[(232, 236)]),
    st("NC", 10_439, &[(237, 246), (681, 690)]),
    st("SC", 5_119, &[(247, 251), (654, 658)]),
    st("GA", 10_712, &[(252, 260), (667, 675)]),
    st("FL", 21_538, &[(261, 267), (589, 595), (766, 772)]),
    st("OH", 11_799, &[(268, 302)]),
    st("IN", 6_786, &[(303, 317)]),
    st("IL", 12_813, &[(318, 361)]),
    st("MI", 10_077, &[(362, 386)]),
    st("WI", 5_894, &[(387, 399)]),
    st("KY", 4_506, &[(400, 407)]),
    st("TN", 6_911, &[(408, 415), (756, 763)]),
    st("AL", 5_024, &[(416, 424)]),
    st("MS", 2_961, &[(425, 428), (587, 588), (752, 755)]),
    st("AR", 3_012, &[(429, 432), (676, 679)]),
    st("LA", 4_658, &[(433, 439), (659, 665)]),
    st("OK", 3_959, &[(440, 448)]),
    st("TX", 29_146, &[(449, 467), (627, 645)]),
    st("MN", 5_706, &[(468, 477)]),
    st("IA", 3_190, &[(478, 485)]),
    st("MO", 6_154, &[(486, 500)]),
    st("ND", 779, &[(501, 502)]),
    st("SD", 887, &[(503, 504)]),
    st("NE", 1_962, &[(505, 508)]),
    st("KS", 2_938, &[(509, 515)]),
    st("MT", 1_084, &[(516, 517)]),
    st("ID", 1_839, &[(518, 519)]),
    st("WY", 577, &[(520, 520)]),
    st("CO", 5_774, &[(521, 524), (650, 653)]),
    st("NM", 2_118, &[(525, 525), (585, 585), (648, 649)]),
    st("AZ", 7_152, &[(526, 527), (600, 601), (764, 765)]),
    st("UT", 3_272, &[(528, 529), (646, 647)]),
    st("NV", 3_105, &[(530, 530), (680, 680)]),
    st("WA", 7_705, &[(531, 539)]),
    st("OR", 4_237, &[(540, 544)]),
    st("CA", 39_538, &[(545, 573), (602, 626)]),
    st("AK", 733, &[(574, 574)]),
    st("HI", 1_455, &[(575, 576), (750, 751)]),
    st("DC", 690, &[(577, 579)]),
    st("PR", 3_286, &[(580, 584), (596, 599)]),
];
