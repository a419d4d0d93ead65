// Data of the CVSS v4.0 specification's scoring method (FIRST, v4.0 final):
// the expert score of each macrovector, the highest-severity vectors of each
// EQ level, and the depth (in 0.1 steps) of each EQ level.
#pragma once

namespace graft::advisory::cvss4 {

// Score x10 of macrovector EQ1..EQ6, indexed
// ((((eq1*2+eq2)*3+eq3)*3+eq4)*3+eq5)*2+eq6; -1 where no such macrovector.
inline constexpr short kMacroScore[324] = {
    100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81, 93, 90, 89, 80, 81, 68,
    98, 95, 95, 92, 90, 84, 93, 92, 89, 81, 81, 65, 88, 80, 78, 70, 69, 48,
    -1, 92, -1, 82, -1, 72, -1, 79, -1, 69, -1, 50, -1, 69, -1, 55, -1, 27,
    99, 97, 95, 92, 92, 85, 95, 91, 90, 83, 84, 71, 92, 81, 82, 71, 72, 53,
    95, 93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59, 84, 70, 71, 52, 50, 30,
    -1, 86, -1, 75, -1, 52, -1, 71, -1, 52, -1, 29, -1, 63, -1, 29, -1, 17,
    98, 95, 94, 87, 91, 81, 94, 89, 86, 74, 77, 64, 87, 75, 74, 63, 63, 49,
    94, 89, 88, 77, 76, 67, 86, 76, 74, 58, 59, 50, 72, 57, 57, 52, 52, 25,
    -1, 83, -1, 70, -1, 54, -1, 65, -1, 58, -1, 26, -1, 53, -1, 21, -1, 13,
    95, 90, 88, 76, 76, 70, 90, 77, 75, 62, 61, 53, 77, 66, 68, 59, 52, 30,
    89, 78, 76, 67, 62, 58, 74, 59, 57, 57, 47, 23, 61, 52, 57, 29, 24, 16,
    -1, 71, -1, 59, -1, 30, -1, 58, -1, 26, -1, 15, -1, 23, -1, 13, -1, 6,
    93, 87, 86, 72, 75, 58, 86, 74, 74, 61, 56, 34, 70, 54, 52, 40, 40, 22,
    85, 75, 74, 55, 62, 51, 72, 57, 55, 41, 46, 19, 53, 36, 34, 19, 19, 8,
    -1, 64, -1, 51, -1, 20, -1, 47, -1, 21, -1, 11, -1, 24, -1, 9, -1, 4,
    88, 75, 73, 53, 60, 50, 73, 55, 59, 40, 41, 20, 54, 43, 45, 22, 20, 11,
    75, 55, 58, 45, 40, 21, 61, 51, 48, 18, 20, 9, 46, 18, 17, 7, 8, 2,
    -1, 53, -1, 24, -1, 14, -1, 24, -1, 12, -1, 5, -1, 10, -1, 3, -1, 1,
};

// Highest-severity metric values per EQ level, as value letters in metric
// order: EQ1 = AV PR UI; EQ2 = AC AT; EQ3+EQ6 = VC VI VA CR IR AR; EQ4 = SC SI SA.
inline constexpr const char* kMaxEq1[3][3] = {{"NNN"}, {"ANN", "NLN", "NNP"}, {"PNN", "ALP"}};
inline constexpr const char* kMaxEq2[2][2] = {{"LN"}, {"HN", "LP"}};
inline constexpr const char* kMaxEq3Eq6[3][2][5] = {
    {{"HHHHHH"}, {"HHLMMH", "HHHMMM"}},
    {{"LHHHHH", "HLHHHH"}, {"LHLHMH", "LHHHMM", "HLHMHM", "HLLMHH", "LLHHHM"}},
    {{}, {"LLLHHH"}},
};
inline constexpr const char* kMaxEq4[3] = {"HSS", "HHH", "LLL"};

// Depth of each EQ level in 0.1 steps (the spec's "max severity" table).
inline constexpr int kDepthEq1[3] = {1, 4, 5};
inline constexpr int kDepthEq2[2] = {1, 2};
inline constexpr int kDepthEq3Eq6[3][2] = {{7, 6}, {8, 8}, {0, 10}};
inline constexpr int kDepthEq4[3] = {6, 5, 4};

}  // namespace graft::advisory::cvss4
