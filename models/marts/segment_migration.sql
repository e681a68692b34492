{#-
    Customers per (previous segment, current segment) between the previous build's
    assignment and this one, for customers present in both. Empty on a first build.
-#}
with

assignments as (
    select * from {{ ref('shopseg', 'segment_kmeans_assignments') }}
),

final as (
    select
        previous_run_id,
        run_id,
        previous_segment_id as from_segment_id,
        segment_id as to_segment_id,
        count(*) as customers
    from assignments
    where previous_segment_id is not null
    group by 1, 2, 3, 4
)

select * from final
