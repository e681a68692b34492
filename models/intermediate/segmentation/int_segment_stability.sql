{#-
    The latest model's bootstrap stability per segment: the mean, over the refits on
    subsamples, of the best Jaccard similarity between the segment and one refit cluster.
-#}
with

model as (
    select * from {{ ref('shopseg', 'int_segment_model__latest') }}
),

final as (
    select
        run_id,
        segment_id,
        value as segment_jaccard
    from model
    where record_type = 'segment_stability' and name = 'jaccard'
)

select * from final
